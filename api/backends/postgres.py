"""The read-model pool: connects on first use, so the API starts while PostgreSQL is down."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from api.backends.errors import Unavailable

# What pool.acquire() hands out: a proxy that behaves as a Connection.
Connection = asyncpg.Connection | PoolConnectionProxy

log = structlog.get_logger(__name__)

DEPENDENCY = "postgresql"
CONNECT_TIMEOUT_S = 3.0
QUERY_TIMEOUT_S = 5.0

# Errors that say "the database is not reachable or not usable right now" — answered
# 503 — as opposed to errors in our own SQL, which are bugs and answered 500.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,
    asyncpg.exceptions.InvalidCatalogNameError,
)
# The schema exists only after `wavestack migrate`; before that, reads are not ready.
_NOT_MIGRATED: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.UndefinedTableError,
    asyncpg.exceptions.InvalidSchemaNameError,
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for codec in ("json", "jsonb"):
        await conn.set_type_codec(
            codec, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


class Database:
    """An asyncpg pool with min_size 0: no connection is attempted until a query needs one."""

    def __init__(self, dsn: str, schema: str, *, max_size: int = 10) -> None:
        self._dsn = dsn
        self._schema = schema
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            # With min_size=0 creating the pool opens no connection, so this cannot fail
            # on an unreachable server; each acquire connects (and reconnects) itself.
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=0,
                max_size=self._max_size,
                timeout=CONNECT_TIMEOUT_S,
                command_timeout=QUERY_TIMEOUT_S,
                server_settings={"search_path": self._schema},
                init=_init_connection,
                reset=_keep_session,
            )
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection; connection-level failures surface as Unavailable."""
        try:
            pool = await self._get_pool()
            async with pool.acquire(timeout=CONNECT_TIMEOUT_S) as conn:
                yield conn
        except _NOT_MIGRATED as exc:
            raise Unavailable(DEPENDENCY, "the read model is not migrated yet") from exc
        except _CONNECTION_ERRORS as exc:
            raise Unavailable(
                DEPENDENCY, f"PostgreSQL is unreachable ({type(exc).__name__})"
            ) from exc

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self.connection() as conn:
            return await conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        async with self.connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def check(self) -> None:
        async with self.connection() as conn:
            await conn.fetchval("SELECT 1 FROM commands LIMIT 1")

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), CONNECT_TIMEOUT_S)
            except TimeoutError:
                pool.terminate()


async def _keep_session(conn: Connection) -> None:
    """Release without asyncpg's reset query (RESET ALL, UNLISTEN *, ...).

    The API only reads: it never sets session state, listens or takes advisory
    locks, and asyncpg still rolls back a transaction left open. Skipping the reset
    saves a round trip to PostgreSQL on every request that touches the read model.
    """
