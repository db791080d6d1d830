"""The API's side of the inbound vault tables (vault/inbound.py): created on first use,
opened with the same key ring as connection credentials."""

from __future__ import annotations

import uuid

from aiohttp import web

from api.appkeys import KEY_TABLE
from api.backends.postgres import Database
from api.config import ApiSettings
from vault import downloads, inbound
from vault.keyring import KeyRing


class InboundStore:
    def __init__(self, settings: ApiSettings, db: Database) -> None:
        self._db = db
        self._schema = settings.db_schema
        self._created = False

    async def _ensure(self) -> None:
        if not self._created:
            async with self._db.connection() as conn:
                await inbound.create_tables(conn, self._schema)
            self._created = True

    async def store_secret(
        self, ring: KeyRing, org_id: str, integration_id: uuid.UUID, secret: str
    ) -> str:
        await self._ensure()
        async with self._db.connection() as conn:
            return await inbound.store_secret(
                conn, self._schema, ring, org_id, str(integration_id), secret
            )

    async def load_secret(self, ring: KeyRing, integration_id: uuid.UUID) -> tuple[str, str] | None:
        await self._ensure()
        async with self._db.connection() as conn:
            return await inbound.load_secret(conn, self._schema, ring, str(integration_id))

    async def destroy_secret(self, integration_id: uuid.UUID) -> None:
        await self._ensure()
        async with self._db.connection() as conn:
            await inbound.destroy_secret(conn, self._schema, str(integration_id))

    async def forget(self, integration_id: uuid.UUID) -> None:
        """The secret, pending tokens and seen message ids of a deleted integration."""
        await self._ensure()
        async with self._db.connection() as conn:
            await inbound.forget_integration(conn, self._schema, str(integration_id))

    async def link_org(self, asset_id: uuid.UUID, token: str) -> str | None:
        await self._ensure()
        async with self._db.connection() as conn:
            return await downloads.link_org(conn, self._schema, asset_id, token)

    async def store_token(self, ring: KeyRing, reply: inbound.PendingReply) -> None:
        await self._ensure()
        async with self._db.connection() as conn:
            await inbound.store_token(conn, self._schema, ring, reply)

    async def seen(self, integration_id: uuid.UUID, message_id: str) -> bool:
        await self._ensure()
        async with self._db.connection() as conn:
            return await inbound.seen_message(conn, self._schema, str(integration_id), message_id)

    async def remember(self, integration_id: uuid.UUID, message_id: str) -> None:
        await self._ensure()
        async with self._db.connection() as conn:
            await inbound.remember_message(conn, self._schema, str(integration_id), message_id)


INBOUND = web.AppKey("inbound", InboundStore)


def ring(app: web.Application) -> KeyRing:
    """The key ring, or a 503 problem saying what to configure."""
    return app[KEY_TABLE].ring()
