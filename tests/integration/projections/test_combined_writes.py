"""The live projector's round trips (projections/combined.py, projections/merge.py):
a batch's writes go as one statement, and its rows are read by one query."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from projections.apply import apply_all
from projections.combined import Write, execute_all
from projections.db import connect
from projections.merge import Record, select_sql
from projections.tables import COMMANDS, ORGANIZATIONS, QUEUE_ITEMS
from schemas.codec import encode, read
from tests.integration.projections.projection_support import enqueued
from wavestack.settings import Settings

A_ROWS = Write(
    "INSERT INTO combined_a SELECT * FROM unnest($1::int[], $2::jsonb[])",
    ([1, 2], [{"x": 1}, {"y": [2, "three"]}]),
)


@pytest.fixture
async def conn(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """The projector's kind of connection (its jsonb codec), in the test's schema."""
    conn = await connect(settings.dsn, settings.db_schema, purpose="test-combined")
    await conn.execute("CREATE TABLE combined_a (id int PRIMARY KEY, doc jsonb)")
    await conn.execute("CREATE TABLE combined_b (id int PRIMARY KEY, name text NOT NULL)")
    yield conn
    await conn.close()


async def test_writes_sent_together_all_land(conn: asyncpg.Connection) -> None:
    named = Write("INSERT INTO combined_b VALUES ($1, $2), ($3, $4)", (7, "seven", 8, "eight"))

    await execute_all(conn, [A_ROWS, named])

    docs = await conn.fetch("SELECT id, doc FROM combined_a ORDER BY id")
    assert [(r["id"], r["doc"]) for r in docs] == [(1, {"x": 1}), (2, {"y": [2, "three"]})]
    names = await conn.fetch("SELECT id, name FROM combined_b ORDER BY id")
    assert [(r["id"], r["name"]) for r in names] == [(7, "seven"), (8, "eight")]


async def test_one_refused_write_leaves_none_of_them(conn: asyncpg.Connection) -> None:
    nameless = Write("INSERT INTO combined_b VALUES ($1, $2)", (9, None))

    with pytest.raises(asyncpg.NotNullViolationError):
        await execute_all(conn, [A_ROWS, nameless])

    assert await conn.fetchval("SELECT count(*) FROM combined_a") == 0


async def test_one_query_reads_each_tables_rows_as_its_own_select_would(
    conn: asyncpg.Connection,
) -> None:
    items = [uuid.uuid4(), uuid.uuid4()]
    records: list[Record] = [("events", read(encode(enqueued(item)))) for item in items]
    async with conn.transaction():
        await apply_all(conn, records)
    tables = (QUEUE_ITEMS, ORGANIZATIONS, COMMANDS)
    keys = [items, [records[0][1].envelope.org_id], [uuid.uuid4()]]

    together = await conn.fetchrow(select_sql(tables), *keys)
    assert together is not None

    for n, table in enumerate(tables):
        alone = await conn.fetch(
            f"SELECT * FROM {table.name} WHERE {table.key} = ANY($1) ORDER BY {table.key}",
            keys[n],
        )
        read_together = sorted(together[n] or (), key=lambda r: r[table.key])
        assert [dict(r) for r in read_together] == [dict(r) for r in alone], table.name
    assert len(together[0]) == 2 and together[2] is None  # two items; no command row
