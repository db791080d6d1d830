"""The figures of `wavestack status` and of the projector's health gauges.

Consumer lag of every group under the topic prefix (the decider, media and
publisher groups commit their offsets to Kafka), the projector's lag from its
positions in PostgreSQL (it commits nothing to Kafka), the DLQ's size, overdue
queue items. Each is one or two cheap requests, so a status screen or a gauge
refresh every few seconds costs the broker and the database next to nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from projections import positions
from projections.kafka import partitions_of
from schemas.catalog import Topics
from schemas.kafka_security import KafkaConnection, kafka_client_options

REQUEST_TIMEOUT_MS = 5000

# The API's definition of overdue (api/reads/queue.py, OVERDUE_SQL): due_at is the
# next attempt's time, else schedule_at, and is set only while the item is
# `scheduled` or `retrying`; the partial index queue_items_due_idx serves it.
OVERDUE_GRACE_SECONDS = 60.0


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group has no position on this partition yet
    end: int

    @property
    def lag(self) -> int:
        return max(self.end - (self.committed or 0), 0)


def projector_group(topics: Topics, schema: str) -> str:
    """The live projector's consumer group (projections/projector.py)."""
    return f"{topics.prefix}.projector.{schema}"


def is_ours(group: str, prefix: str) -> bool:
    return group.startswith((f"{prefix}-", f"{prefix}."))


async def end_offsets(
    bootstrap: KafkaConnection | str, tps: Iterable[TopicPartition], *, beginning: bool = False
) -> dict[TopicPartition, int]:
    wanted = list(tps)
    if not wanted:
        return {}
    consumer = AIOKafkaConsumer(
        **kafka_client_options(bootstrap),
        group_id=None,
        enable_auto_commit=False,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
    )
    await consumer.start()
    try:
        found = await (
            consumer.beginning_offsets(wanted) if beginning else consumer.end_offsets(wanted)
        )
        return dict(found)
    finally:
        await consumer.stop()


async def group_lags(bootstrap: KafkaConnection | str, prefix: str) -> list[PartitionLag]:
    """Per group of the prefix that committed offsets, per partition: position and end."""
    admin = AIOKafkaAdminClient(
        **kafka_client_options(bootstrap), request_timeout_ms=REQUEST_TIMEOUT_MS
    )
    await admin.start()
    try:
        groups = sorted(g for g, _ in await admin.list_consumer_groups() if is_ours(g, prefix))
        committed: dict[str, dict[TopicPartition, int]] = {}
        for group in groups:
            offsets = await admin.list_consumer_group_offsets(group)
            committed[group] = {tp: o.offset for tp, o in offsets.items() if o.offset >= 0}
    finally:
        await admin.close()
    ends = await end_offsets(bootstrap, {tp for c in committed.values() for tp in c})
    return [
        PartitionLag(group, tp.topic, tp.partition, offset, ends.get(tp, offset))
        for group in groups
        for tp, offset in sorted(committed[group].items())
    ]


async def projector_lags(
    conn: asyncpg.Connection,
    bootstrap: KafkaConnection | str,
    topics: Topics,
    schema: str,
    projection: str,
) -> list[PartitionLag]:
    """The projector's positions (``conn`` on its schema) against the log's ends."""
    tps = await partitions_of(bootstrap, [topics.events, topics.commands])
    ends = await end_offsets(bootstrap, tps)
    stored = await positions.load(conn, projection)
    group = projector_group(topics, schema)
    return [PartitionLag(group, tp.topic, tp.partition, stored.get(tp), ends[tp]) for tp in tps]


async def dlq_size(bootstrap: KafkaConnection | str, topic: str) -> int:
    """Messages on the DLQ (end - start per partition: it is never compacted)."""
    tps = await partitions_of(bootstrap, [topic])
    starts = await end_offsets(bootstrap, tps, beginning=True)
    ends = await end_offsets(bootstrap, tps)
    return sum(ends[tp] - starts[tp] for tp in tps)


async def overdue_items(
    conn: asyncpg.Connection, grace_seconds: float = OVERDUE_GRACE_SECONDS
) -> dict[str, int]:
    """Items still waiting ``grace_seconds`` after they were due, by platform."""
    rows = await conn.fetch(
        "SELECT platform, count(*) AS n FROM queue_items"
        " WHERE due_at IS NOT NULL AND due_at < now() - make_interval(secs => $1)"
        " GROUP BY platform ORDER BY platform",
        grace_seconds,
    )
    return {str(r["platform"]): int(r["n"]) for r in rows}


def total_lag(lags: Iterable[PartitionLag]) -> Mapping[str, int]:
    totals: dict[str, int] = {}
    for lag in lags:
        totals[lag.group] = totals.get(lag.group, 0) + lag.lag
    return totals
