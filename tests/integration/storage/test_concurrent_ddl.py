"""The tables beside the read model, created by processes that start at the same moment.

PostgreSQL's ``CREATE ... IF NOT EXISTS`` races: two sessions both find the name free
and the second fails on the catalog's unique index (a publisher and an integrations
worker starting together once took a fleet down this way). Every such creation goes
through ``create_once``; here many sessions run each one at once on a fresh schema.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import pytest

from projections.pointintime import catalog_schema, register
from streams.webhooks import store as webhook_store
from vault import inbound, keytable
from wavestack.operator.replay import create_journal
from wavestack.settings import Settings

SESSIONS = 6

Create = Callable[[asyncpg.Connection, str, int], Awaitable[None]]


async def _vault(conn: asyncpg.Connection, schema: str, session: int) -> None:
    # The API and the publisher create the key table while the integrations worker
    # creates the inbound tables: one schema, two routines, in either order.
    first, second = (keytable.create_table, inbound.create_tables)[:: 1 if session % 2 else -1]
    await first(conn, schema)
    await second(conn, schema)


CREATIONS: dict[str, Create] = {
    "vault": _vault,
    "webhooks": lambda conn, schema, _: webhook_store.create(conn, schema),
    "operator journal": lambda conn, schema, _: create_journal(conn, schema),
}


@pytest.mark.parametrize("what", sorted(CREATIONS))
async def test_sessions_creating_the_same_tables_at_once_all_succeed(
    settings: Settings, what: str
) -> None:
    create = CREATIONS[what]
    conns = [await asyncpg.connect(settings.dsn) for _ in range(SESSIONS)]
    try:
        results = await asyncio.gather(
            *(create(conn, settings.db_schema, i) for i, conn in enumerate(conns)),
            return_exceptions=True,
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        # And again, now that everything exists: nothing to do, nothing fails.
        await create(conns[0], settings.db_schema, 0)
    finally:
        for conn in conns:
            await conn.close()


async def test_point_in_time_models_registered_at_once_share_one_catalog(
    settings: Settings,
) -> None:
    conns = [await asyncpg.connect(settings.dsn) for _ in range(SESSIONS)]
    catalog = catalog_schema(settings.db_schema)
    as_of = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        results = await asyncio.gather(
            *(register(conn, catalog, settings.db_schema, as_of, 1, "d") for conn in conns),
            return_exceptions=True,
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        rows = await conns[0].fetch(f'SELECT schema_name FROM "{catalog}".models')
        assert [r["schema_name"] for r in rows] == [settings.db_schema]
    finally:
        for conn in conns:
            await conn.close()
