"""A batch that waited for another writer of its projection (a peer projector finishing
its last batch on a partition that just moved) reads the positions that writer
committed, so it skips what that writer applied."""

from __future__ import annotations

import asyncio
import uuid

import structlog
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from projections import positions
from projections.batch import BatchWriter
from projections.config import PROJECTION
from projections.db import connect
from projections.deadletter import DeadLetters
from schemas.codec import encode
from tests.integration.projections.projection_support import enqueued
from wavestack.settings import Settings


class NoDeadLetters(DeadLetters):
    """Nothing in this batch is poison: a dead letter would be the test's failure."""

    def __init__(self) -> None:
        pass

    async def send(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        raise AssertionError(f"dead-lettered: {reason}")


def records(topic: str, offsets: range) -> list[ConsumerRecord[bytes, bytes]]:
    values = [encode(enqueued(uuid.uuid4())) for _ in offsets]
    return [
        ConsumerRecord(topic, 0, offset, 0, 0, None, value, None, 0, len(value), [])
        for offset, value in zip(offsets, values, strict=True)
    ]


async def test_a_batch_that_waited_for_the_lock_skips_what_the_holder_committed(
    settings: Settings,
) -> None:
    topic = settings.topics.events
    tp = TopicPartition(topic, 0)
    holder = await connect(settings.dsn, settings.db_schema, purpose="test-fence-holder")
    waiter = await connect(settings.dsn, settings.db_schema, purpose="test-fence-waiter")
    try:
        epoch = await positions.ensure_state(holder, PROJECTION)
        await positions.save(holder, PROJECTION, {tp: 100})
        log = structlog.get_logger()
        writer = BatchWriter(PROJECTION, {topic: "events"}, NoDeadLetters(), log)
        held = holder.transaction()
        await held.start()
        assert await positions.lock_epoch(holder, PROJECTION) == epoch
        # The waiter's batch starts behind the lock, with records 100-149...
        batch = {tp: records(topic, range(100, 150))}
        waiting = asyncio.create_task(writer.write(waiter, batch, epoch))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        # ...which the holder applies (its own copies) and commits, moving to 150.
        await positions.save(holder, PROJECTION, {tp: 150})
        await held.commit()

        stats, _ = await asyncio.wait_for(waiting, 10)

        assert (stats.skipped, stats.applied) == (50, 0)
        assert await positions.load(waiter, PROJECTION) == {tp: 150}
        assert await waiter.fetchval("SELECT count(*) FROM queue_items") == 0
    finally:
        await holder.close()
        await waiter.close()
