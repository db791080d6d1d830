"""Offset-gap repair for the deciding agent: no command is ever skipped.

Faust can commit past a message it never handed to the agent (a rebalance or a
restart racing its ack bookkeeping; faust issues #316/#606): the worker then resumes
after the gap and those commands never get an outcome. Seen in our SIGKILL test.

The decider therefore keeps, per partition, the next offset it expects (in a Faust
table whose changelog partition is the commands partition, so it moves with the
partition). A message beyond that offset means a gap: the missing records are read
straight from Kafka and decided first. Deciding is idempotent (a decided command is
answered from its stored decision), so an expectation that is too low — the last
table writes lost in a crash — only costs re-reading, never a wrong outcome.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition


@dataclass(frozen=True)
class Record:
    """The fields of a consumed message the decider reads (faust's Message has them too)."""

    topic: str
    partition: int
    offset: int
    timestamp: float  # seconds
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class Positions:
    """Next expected offset per partition of one topic, kept in a Faust table.

    Written to the table's local store only, not its changelog: the expectation then
    survives restarts of this process (RocksDB) at no cost per command, and a worker
    taking over a partition from another machine starts without one (no repair until
    its first command) — an expectation only ever needs to be low, never high, since
    a low one costs re-reading and re-answering from stored decisions, nothing else.
    Values are kept in memory too, and dropped with ``forget`` on a rebalance.
    """

    def __init__(self, table: Any, topic: str) -> None:
        self._table = table
        self._topic = topic
        self._known: dict[int, int | None] = {}

    def _expected(self, partition: int) -> int | None:
        if partition not in self._known:
            value = self._table.data.get(self._key(partition))
            self._known[partition] = None if value is None else int(value)
        return self._known[partition]

    def missing(self, partition: int, offset: int) -> range:
        """Offsets before ``offset`` that were never decided (empty when none)."""
        expected = self._expected(partition)
        if expected is None or offset <= expected:
            return range(0)
        return range(expected, offset)

    def done(self, partition: int, offset: int) -> None:
        expected = self._expected(partition)
        if expected is None or offset + 1 > expected:
            self._table.data[self._key(partition)] = str(offset + 1).encode()
            self._known[partition] = offset + 1

    def _key(self, partition: int) -> str:
        return f"{self._topic}:{partition}"

    def forget(self) -> None:
        self._known.clear()


async def read_range(
    bootstrap: str, topic: str, partition: int, offsets: range
) -> AsyncIterator[Record]:
    """The records at ``offsets`` of one partition, read without a consumer group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offsets.start)
        while True:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=500)
            for msg in batch.get(tp, []):
                if msg.offset >= offsets.stop:
                    return
                yield Record(
                    topic=msg.topic,
                    partition=msg.partition,
                    offset=msg.offset,
                    timestamp=msg.timestamp / 1000,
                    key=msg.key,
                    value=msg.value,
                    headers=list(msg.headers or []),
                )
            if not batch and await consumer.position(tp) >= offsets.stop:
                return
    finally:
        await consumer.stop()
