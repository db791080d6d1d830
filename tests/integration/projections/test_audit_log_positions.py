"""The audit index records where each event is on the log, live and after a rebuild."""

from __future__ import annotations

import json
import uuid

import asyncpg

from projections.checksum import checksum
from projections.rebuild import rebuild
from tests.integration.projections.projection_support import (
    drop_schemas_like,
    enqueued,
    produce_events,
    produce_workload,
    projector_running,
    read_topic,
    wait_caught_up,
)
from wavestack.settings import Settings

Place = tuple[str, int, int]


async def first_copies(settings: Settings) -> dict[uuid.UUID, Place]:
    """Per event id, the place of its first record on the events topic (poison skipped)."""
    found: dict[uuid.UUID, Place] = {}
    records = await read_topic(settings, settings.topics.events)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        try:
            event_id = uuid.UUID(json.loads(record.value or b"")["id"])
        except (ValueError, KeyError, TypeError):
            continue
        found.setdefault(event_id, (record.topic, record.partition, record.offset))
    return found


async def recorded(db: asyncpg.Connection) -> dict[uuid.UUID, Place]:
    rows = await db.fetch("SELECT id, log_topic, log_partition, log_offset FROM events")
    return {r["id"]: (r["log_topic"], r["log_partition"], r["log_offset"]) for r in rows}


async def test_live_and_rebuilt_audit_rows_carry_the_topic_partition_and_offset_of_the_first_copy(
    settings: Settings, db: asyncpg.Connection
) -> None:
    await produce_workload(settings, items=12)
    again = enqueued(uuid.uuid5(uuid.NAMESPACE_URL, f"{settings.db_schema}/dup"))
    await produce_events(settings, [again, again])  # a re-emitted event: the first one counts
    expected = await first_copies(settings)
    try:
        async with projector_running(settings):
            await wait_caught_up(settings, db)
            live = await recorded(db)
            assert live == expected
            assert {topic for topic, _, _ in live.values()} == {settings.topics.events}
            before = await checksum(db, settings.db_schema)
            summary = await rebuild(settings, keep_old=False)
        assert await recorded(db) == expected  # the rebuilt schema, swapped in
        # The new columns are content: the checksum covers them, and they agree.
        assert summary.checksum == before
    finally:
        await drop_schemas_like(db, settings.db_schema)
