"""The publisher's tables: per owned partition a local store each, their changelogs the truth.

Three tables keyed by item id, co-partitioned with the events topic (their changelog
topics are the ones the Faust app wrote, so its state reads back): ``publisher_items``,
``publisher_due`` and ``publisher_reads`` (streams/publishing/tracking.py and
metrics_tracking.py say what they hold).

Writes land in memory first (``pending``) and reach the changelogs in batches:
``flush`` sends every pending value of every partition at once, waits for all the
acks (acks=all; one record batch per changelog partition, streams/runtime/producing.py),
then writes each partition's store in one batch with the changelog offset it reaches.
Faust wrote one changelog record per table per event and flushed per attempt; here
the loop flushes before it commits (about once a second, streams/publishing/app.py)
and the attempts' calling marks share a flush per round (``SharedFlush``). A value is
read back from ``pending``, then from what a flush in progress sends, then from the
store.

Nothing is deleted: a removed entry is written as an empty value (the runtime's
restore passes tombstones over, so a tombstone would bring the old value back).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.runtime.changelog import changelog_key
from streams.runtime.producing import produce_batched
from streams.runtime.restore import restore
from streams.runtime.sending import Outgoing
from streams.runtime.store import KeyValueStore

ITEMS = "publisher_items"
DUE = "publisher_due"
READS = "publisher_reads"
TABLES = (ITEMS, DUE, READS)
ABSENT = b""
# Flushed values kept in memory per table partition, past which they are read from disk.
RECENT_MAX = 4096

log = structlog.get_logger("streams.publishing.state")


def changelog_topic(group: str, table: str) -> str:
    """The name Faust gave the table's changelog: ``<app id>-<table>-changelog``."""
    return f"{group}-{table}-changelog"


class PartitionTable:
    """One table's partition: its store, writes not yet sent, and writes being sent."""

    def __init__(self, store: KeyValueStore, changelog: TopicPartition) -> None:
        self.store = store
        self.changelog = changelog
        self.pending: dict[str, bytes] = {}
        self.sending: dict[str, bytes] = {}
        # The values last flushed, as the same objects (the tracker knows them parsed).
        self.recent: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        value = self.pending.get(key)
        if value is None:
            value = self.sending.get(key)
        if value is None:
            value = self.recent.get(key)
        if value is None:
            value = self.store.get(key)
        return value or None  # empty: removed (nothing is deleted on a changelog)

    def items(self) -> Iterator[tuple[str, bytes]]:
        overlay = {**self.recent, **self.sending, **self.pending}
        for key, value in self.store.items():
            if key not in overlay and value:
                yield key, value
        for key, value in overlay.items():
            if value:
                yield key, value


class TableView:
    """One table across the partitions this process owns, as the tracker uses a mapping.

    A key's partition is where its events were read (``State.locate``), since the
    item id alone does not name it.
    """

    def __init__(self, state: State, name: str) -> None:
        self.state = state
        self.name = name

    def _table(self, key: str) -> PartitionTable | None:
        partition = self.state.where.get(key)
        if partition is None:
            return None
        tables = self.state.partitions.get(partition)
        return None if tables is None else tables[self.name]

    def get(self, key: str, default: bytes | None = None) -> bytes | None:
        table = self._table(key)
        value = None if table is None else table.get(key)
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __setitem__(self, key: str, value: bytes) -> None:
        table = self._table(key)
        if table is None:
            # A partition revoked under a cancelled attempt: its new owner redoes it.
            log.info("write_to_unowned_partition_dropped", table=self.name)
            return
        table.pending[key] = value

    def __delitem__(self, key: str) -> None:
        self[key] = ABSENT

    def items(self) -> Iterator[tuple[str, bytes]]:
        for tables in list(self.state.partitions.values()):
            yield from tables[self.name].items()


class State:
    def __init__(self, root: Path, group: str, producer: AIOKafkaProducer) -> None:
        self.root = root
        self.group = group
        self.producer = producer
        self.partitions: dict[int, dict[str, PartitionTable]] = {}
        self.where: dict[str, int] = {}
        # One flush at a time: a store's offset must never pass a value not stored yet.
        self._flushing = asyncio.Lock()
        self.items = TableView(self, ITEMS)
        self.due = TableView(self, DUE)
        self.reads = TableView(self, READS)

    def locate(self, key: str, partition: int) -> None:
        self.where[key] = partition

    async def open(self, partition: int, restorer: AIOKafkaConsumer) -> None:
        """Opens the partition's stores and reads their changelogs since their offsets."""
        if partition in self.partitions:
            return
        tables = {}
        for name in TABLES:
            store = KeyValueStore(self.root / f"{name}-{partition}")
            changelog = TopicPartition(changelog_topic(self.group, name), partition)
            await restore(restorer, changelog, store)
            tables[name] = PartitionTable(store, changelog)
        self.partitions[partition] = tables
        for name in (DUE, READS):
            for key, _ in tables[name].items():
                self.where[key] = partition

    def close(self, partition: int) -> None:
        """After a final ``flush``: what is still pending here is dropped with the partition."""
        tables = self.partitions.pop(partition, None)
        if tables is None:
            return
        for table in tables.values():
            table.store.close()
        for key in [k for k, p in self.where.items() if p == partition]:
            del self.where[key]

    def close_all(self) -> None:
        for partition in list(self.partitions):
            self.close(partition)

    @property
    def pending(self) -> int:
        return sum(len(t.pending) for ts in self.partitions.values() for t in ts.values())

    async def flush(self) -> None:
        """Every pending write on the changelogs (acked), then in the stores.

        A partition closed while its writes were on their way (a revocation) is not
        written to: its store is closed, and its new owner restores from the changelog.
        """
        async with self._flushing:
            tables = [
                (p, name, t)
                for p, ts in self.partitions.items()
                for name, t in ts.items()
                if t.pending
            ]
            if not tables:
                return
            batch: list[Outgoing] = []
            for _, _, table in tables:
                table.sending, table.pending = table.pending, {}
                tp = table.changelog
                batch.extend(
                    Outgoing(tp.topic, changelog_key(k), v, None, tp.partition)
                    for k, v in table.sending.items()
                )
            bound: Any = log.bind(records=len(batch))
            try:
                reached = await produce_batched(self.producer, batch, bound)
                for partition, name, table in tables:
                    if self.partitions.get(partition, {}).get(name) is not table:
                        continue  # closed meanwhile (revoked): the changelog has it
                    table.store.write(table.sending, reached[table.changelog])
                    if len(table.recent) + len(table.sending) > RECENT_MAX:
                        table.recent.clear()
                    table.recent.update(table.sending)
            finally:
                for _, _, table in tables:
                    table.sending = {}
