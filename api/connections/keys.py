"""The API's side of the key table: the key ring from the settings, rows in and out.

The ring is parsed once at start-up; a missing or invalid ``WAVESTACK_SECRET_KEY``
does not stop the API (every other route works) but answers 503 on the routes that
need it. The key table is created on first use if ``wavestack migrate`` has not yet.
"""

from __future__ import annotations

import structlog

from api.backends.postgres import Database
from api.config import ApiSettings
from api.problems import Problem
from vault import keytable
from vault.keyring import InvalidKeyRing, KeyRing

log = structlog.get_logger(__name__)


def not_configured(detail: str) -> Problem:
    return Problem(
        503,
        detail,
        kind="secret-key-not-configured",
        title="Credential encryption is not configured",
        headers={"Retry-After": "60"},
        extra={"dependency": "secret_key"},
    )


class KeyTable:
    def __init__(self, settings: ApiSettings, db: Database) -> None:
        self._db = db
        self._schema = settings.db_schema
        self._ring: KeyRing | None = None
        self._ring_problem = "WAVESTACK_SECRET_KEY is not set: connections cannot be created"
        self._created = False
        secret = settings.secret_key
        if secret is not None:
            try:
                self._ring = KeyRing.parse(secret.get_secret_value())
            except InvalidKeyRing as exc:  # its message never carries key material
                self._ring_problem = f"WAVESTACK_SECRET_KEY is not a valid key ring ({exc})"
                log.error("secret key ring invalid", reason=str(exc))

    def ring(self) -> KeyRing:
        """The key ring, or a 503 problem saying what to configure."""
        if self._ring is None:
            raise not_configured(self._ring_problem)
        return self._ring

    async def _ensure(self) -> None:
        if not self._created:
            async with self._db.connection() as conn:
                await keytable.create_table(conn, self._schema)
            self._created = True

    async def load(self, connection_id: str) -> keytable.StoredConnection | None:
        await self._ensure()
        async with self._db.connection() as conn:
            return await keytable.load(conn, self._schema, connection_id)

    async def store(self, row: keytable.StoredConnection) -> bool:
        await self._ensure()
        async with self._db.connection() as conn:
            return await keytable.store(conn, self._schema, row)

    async def destroy(self, connection_id: str) -> bool:
        await self._ensure()
        async with self._db.connection() as conn:
            return await keytable.destroy(conn, self._schema, connection_id)
