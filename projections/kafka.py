"""Kafka helpers of the projections: the consumer and what the log looks like now."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.catalog import Topics
from schemas.kafka_security import KafkaConnection, kafka_client_options


def projection_topics(topics: Topics) -> list[str]:
    return [topics.events, topics.commands]


# Per-partition fetch size of bulk reads (rebuild): a few thousand records per request
# instead of aiokafka's 1 MiB, so the broker round trips stay out of the way.
BULK_FETCH_BYTES = 8 * 1024 * 1024

# The broker holds a fetch until this much is there or the wait is over. With
# aiokafka's default (answer at once) a steady load arrives a few records per fetch,
# and each became a transaction of six round trips: at 2,000 commands/s the
# projector's PostgreSQL backend took ~40 % of a core. Waiting up to 20 ms (~120 records
# a batch at that rate) took it to ~22 % for more commands; it adds ~20 ms to decided -> visible
# (docs/performance.md, eighth run). A backlog fills the bytes at once: no wait.
FETCH_MIN_BYTES = 256 * 1024
FETCH_MAX_WAIT_MS = 20


def new_consumer(
    kafka: KafkaConnection | str,
    group_id: str | None,
    max_records: int,
    *,
    session_timeout_ms: int = 10_000,
    partition_fetch_bytes: int = 1024 * 1024,
) -> AIOKafkaConsumer:
    # enable_auto_commit=False and no commits at all: the positions that count are the
    # ones in PostgreSQL, written in the same transaction as the rows. A Kafka commit
    # could only ever disagree with them (committed but rows rolled back, or the
    # reverse), and on assignment we seek to the database's positions anyway.
    # "earliest": a partition we know nothing about is projected from its beginning.
    return AIOKafkaConsumer(
        **kafka_client_options(kafka),
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=max_records,
        session_timeout_ms=session_timeout_ms,
        request_timeout_ms=15000,
        max_partition_fetch_bytes=partition_fetch_bytes,
        fetch_min_bytes=FETCH_MIN_BYTES,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
    )


async def partitions_of(
    kafka: KafkaConnection | str, topics: Iterable[str]
) -> list[TopicPartition]:
    """Every partition of ``topics``; a missing topic is an error, never auto-created."""
    wanted = list(topics)
    admin = AIOKafkaAdminClient(**kafka_client_options(kafka), request_timeout_ms=15000)
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics(wanted)}
    finally:
        await admin.close()
    found: list[TopicPartition] = []
    for topic in wanted:
        entry = described.get(topic)
        if entry is None or entry["error_code"] != 0 or not entry["partitions"]:
            raise LookupError(f"topic {topic!r} does not exist (run `wavestack topics`)")
        found.extend(
            TopicPartition(topic, p) for p in sorted(e["partition"] for e in entry["partitions"])
        )
    return found


async def log_ends(kafka: KafkaConnection | str, topics: Topics) -> dict[TopicPartition, int]:
    """The end offset of every partition the projector reads, as of now."""
    ends, _ = await log_ends_and_times(kafka, topics, None)
    return ends


async def log_ends_and_times(
    kafka: KafkaConnection | str, topics: Topics, at_ms: int | None
) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int | None]]:
    """The end offsets and, given a time, per partition the first offset whose record
    timestamp is at or after it (None: no such record), with one look-up and client."""
    tps = await partitions_of(kafka, projection_topics(topics))
    consumer = new_consumer(kafka, None, 1)
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        if at_ms is None:
            return ends, {}
        found = await consumer.offsets_for_times(dict.fromkeys(tps, at_ms))
        return ends, {tp: (hit.offset if hit is not None else None) for tp, hit in found.items()}
    finally:
        await consumer.stop()
