"""Rebuild: a fresh read model beside the live one, identical to it, swapped in live."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from projections.checksum import checksum
from projections.rebuild import rebuild
from tests.integration.projections.projection_support import (
    drop_schemas_like,
    enqueued,
    eventually,
    produce_events,
    produce_workload,
    projector_running,
    read_topic,
    stream,
    wait_caught_up,
)
from wavestack.settings import Settings

ITEMS = 30


async def keep_reading(
    settings: Settings, done: asyncio.Event
) -> tuple[list[int], list[BaseException]]:
    """What an API process sees meanwhile: its own session, prepared statements cached."""
    conn = await asyncpg.connect(settings.dsn, server_settings={"search_path": settings.db_schema})
    counts: list[int] = []
    errors: list[BaseException] = []
    try:
        while not done.is_set():
            try:
                counts.append(await conn.fetchval("SELECT count(*) FROM queue_items"))
            except asyncpg.PostgresError as exc:
                errors.append(exc)
            await asyncio.sleep(0.005)
    finally:
        await conn.close()
    return counts, errors


async def schema_oid(db: asyncpg.Connection, name: str) -> int | None:
    oid: int | None = await db.fetchval("SELECT oid FROM pg_namespace WHERE nspname = $1", name)
    return oid


async def test_a_rebuilt_read_model_matches_the_live_one_and_swaps_in_while_reads_keep_working(
    settings: Settings, db: asyncpg.Connection
) -> None:
    await produce_workload(settings, items=ITEMS)
    try:
        async with projector_running(settings):
            await wait_caught_up(settings, db)
            live_digest = await checksum(db, settings.db_schema)
            live_oid = await schema_oid(db, settings.db_schema)
            done = asyncio.Event()
            reader = asyncio.create_task(keep_reading(settings, done))
            summary = await rebuild(settings, keep_old=True)
            await asyncio.sleep(0.1)
            done.set()
            counts, errors = await reader

            # The live projector carries on in the new schema.
            late = uuid.uuid4()
            await produce_events(settings, [enqueued(late)])

            async def projected() -> bool:
                found: int = await db.fetchval(
                    "SELECT count(*) FROM queue_items WHERE id = $1", late
                )
                return found == 1

            await eventually(projected)

        assert errors == []
        assert len(counts) > 10 and set(counts) == {ITEMS}
        assert summary.checksum == live_digest
        assert summary.old_schema is not None
        assert await schema_oid(db, settings.db_schema) != live_oid
        assert await schema_oid(db, summary.old_schema) == live_oid
        assert await checksum(db, summary.old_schema) == live_digest
        old_count = await db.fetchval(f'SELECT count(*) FROM "{summary.old_schema}".queue_items')
        assert old_count == ITEMS  # the late item went to the new live schema only
        # The rebuild met the poison record again: a second dead letter, same source.
        letters = await read_topic(settings, settings.topics.dlq, at_least=2)
        assert len(letters) == 2
        assert len({dict(letter.headers)["wavestack-dlq-source"] for letter in letters}) == 1
    finally:
        await drop_schemas_like(db, settings.db_schema)


async def test_a_rebuild_under_traffic_loses_and_doubles_nothing(
    settings: Settings, db: asyncpg.Connection
) -> None:
    streamed = [uuid.uuid4() for _ in range(400)]
    try:
        async with projector_running(settings):
            done = asyncio.Event()
            reader = asyncio.create_task(keep_reading(settings, done))
            traffic = asyncio.create_task(stream(settings, streamed, chunk=20, pause=0.05))
            await asyncio.sleep(0.3)
            summary = await rebuild(settings, keep_old=False)
            await traffic
            await wait_caught_up(settings, db, timeout=60)
            done.set()
            counts, errors = await reader

        assert summary.records > 0 and not traffic.exception()
        assert errors == []
        assert counts == sorted(counts)  # the swap never shows an older model
        assert counts[-1] == len(streamed)
        assert await db.fetchval("SELECT count(*) FROM events") == 3 * len(streamed)
        assert await db.fetchval("SELECT count(DISTINCT version) FROM queue_items") == 1
        # What the live projector wrote after the swap equals a projection from scratch.
        live_digest = await checksum(db, settings.db_schema)
        assert (await rebuild(settings, keep_old=False)).checksum == live_digest
    finally:
        await drop_schemas_like(db, settings.db_schema)


async def test_a_rebuild_without_keep_old_leaves_only_the_new_live_schema(
    settings: Settings, db: asyncpg.Connection
) -> None:
    records = await produce_workload(settings, items=5)
    try:
        summary = await rebuild(settings, keep_old=False)

        assert summary.old_schema is None
        assert summary.records == records
        assert await db.fetchval("SELECT count(*) FROM queue_items") == 5
        leftovers = await db.fetch(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)",
            settings.db_schema + "_",
        )
        assert leftovers == []
        assert summary.checksum == await checksum(db, settings.db_schema)
    finally:
        await drop_schemas_like(db, settings.db_schema)
