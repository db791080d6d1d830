"""Replay: positions moved back, the log projected again, the read model unchanged."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg

from projections.checksum import checksum
from projections.progress import Progress
from projections.replay import replay
from tests.integration.projections.projection_support import (
    enqueued,
    produce_events,
    produce_workload,
    projector_running,
    read_topic,
    wait_caught_up,
    workload,
)
from wavestack.settings import Settings


async def test_replaying_from_the_beginning_leaves_the_read_model_as_it_was(
    settings: Settings, db: asyncpg.Connection
) -> None:
    records = await produce_workload(settings)
    async with projector_running(settings):
        await wait_caught_up(settings, db)
    before = await checksum(db, settings.db_schema)
    reports: list[Progress] = []

    summary = await replay(settings, from_beginning=True, progress=reports.append)

    assert summary.records == records
    assert summary.skipped == 0  # every record was applied again...
    assert await checksum(db, settings.db_schema) == before  # ...and changed nothing
    assert reports[-1].done == reports[-1].total == records
    assert reports[-1].lag == 0


async def test_a_replay_beside_the_running_projector_applies_each_record_once(
    settings: Settings, db: asyncpg.Connection
) -> None:
    await produce_workload(settings)
    async with projector_running(settings):
        await wait_caught_up(settings, db)
        late = [uuid.uuid4() for _ in range(50)]
        traffic = asyncio.create_task(produce_events(settings, [enqueued(i) for i in late]))
        await replay(settings, from_beginning=True)
        await traffic
        await wait_caught_up(settings, db)

    assert await db.fetchval("SELECT count(*) FROM queue_items WHERE id = ANY($1)", late) == 50
    # The poison record was dead-lettered by the first pass and by exactly one of the
    # two projectors of the replay: the offset fence lets only one of them apply it.
    assert len(await read_topic(settings, settings.topics.dlq, at_least=2)) == 2
    _, events = workload()
    assert await db.fetchval("SELECT count(*) FROM events") == len(events) + len(late)


async def test_a_replay_from_a_time_restores_only_what_came_after_it(
    settings: Settings, db: asyncpg.Connection
) -> None:
    early, later = uuid.uuid4(), uuid.uuid4()
    await produce_events(settings, [enqueued(early)])
    await asyncio.sleep(1.0)
    cut = datetime.now(UTC)
    await asyncio.sleep(1.0)
    await produce_events(settings, [enqueued(later)])
    async with projector_running(settings):
        await wait_caught_up(settings, db)
    # Rows lost by hand (a bad manual fix, a restored backup): replay refills them.
    await db.execute("DELETE FROM queue_items")

    summary = await replay(settings, from_time=cut)

    assert summary.records == 1
    assert [r["id"] for r in await db.fetch("SELECT id FROM queue_items")] == [later]
