"""Opening an item's connection: its key-table row, checked, unwrapped and unsealed.

The plaintext lives only in the returned mapping for the length of the attempts that
share one read of the row (``Connections._load``); it is never logged, put in a
result, or written anywhere.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import asyncpg

from vault import keytable
from vault.keyring import KeyRing, VaultError


@dataclass(frozen=True)
class Opened:
    credentials: Mapping[str, str] = field(repr=False)


@dataclass(frozen=True)
class Unusable:
    """Why the connection can't be used, in words a user can act on."""

    reason: str


class Connections:
    def __init__(self, pool: asyncpg.Pool | None, db_schema: str, ring: KeyRing) -> None:
        # None until the publisher's resources open (the pool is made in its loop).
        self.pool = pool
        self.db_schema = db_schema
        self.ring = ring
        self._loading: dict[uuid.UUID, asyncio.Future[_Read]] = {}

    async def open(self, connection_id: uuid.UUID, org_id: str, platform: str) -> Opened | Unusable:
        read = await self._load(connection_id)
        stored = read.stored
        if stored is None or stored.org_id != org_id:
            return Unusable(
                "the item's connection was deleted (or never finished connecting): "
                "connect the account again, then retry the item with the new connection"
            )
        if stored.platform != platform:
            return Unusable(
                f"the item's connection is for {stored.platform}, not {platform}: "
                "queue the item again with a matching connection"
            )
        try:
            return Opened(read.credentials(self.ring))
        except VaultError:
            # The ring lost the key that wrapped it, or the row was tampered with.
            return Unusable(
                "the connection's credentials can't be decrypted with the configured keys: "
                "an operator must restore the key ring, or connect the account again"
            )

    async def _load(self, connection_id: uuid.UUID) -> _Read:
        """The row, read once for every attempt that asks while it is being read.

        A thousand attempts due at one second on one connection made a thousand
        identical queries; sharing one read is the same as each reading at that
        moment. Nothing is kept after it: a deleted row is seen by the next read.
        """
        loading = self._loading.get(connection_id)
        if loading is None:
            loading = asyncio.ensure_future(self._query(connection_id))
            self._loading[connection_id] = loading
            loading.add_done_callback(lambda _: self._loading.pop(connection_id, None))
        return await asyncio.shield(loading)

    async def _query(self, connection_id: uuid.UUID) -> _Read:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            return _Read(await keytable.load(conn, self.db_schema, str(connection_id)))

    async def destroy(self, connection_id: uuid.UUID) -> bool:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            return await keytable.destroy(conn, self.db_schema, str(connection_id))


class _Read:
    """One read of a row, shared by the attempts that asked during it, and its plaintext
    opened once for all of them (unwrapping and unsealing per attempt was a few per
    cent of the publisher at a burst). Gone with the last attempt holding it."""

    def __init__(self, stored: keytable.StoredConnection | None) -> None:
        self.stored = stored
        self._opened: Mapping[str, str] | None = None

    def __repr__(self) -> str:
        return f"_Read({self.stored!r})"  # never the plaintext

    def credentials(self, ring: KeyRing) -> Mapping[str, str]:
        """The plaintext (read-only: the attempts share it); raises vault errors."""
        assert self.stored is not None
        if self._opened is None:  # a failure is not kept: each attempt asks again (rare)
            self._opened = MappingProxyType(keytable.open_credentials(self.stored, ring))
        return self._opened
