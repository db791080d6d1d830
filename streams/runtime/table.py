"""A table of a plain aiokafka process: per partition a local store, its changelog the truth.

What Faust tables gave the Faust apps, for one writer per partition: a value is on
the compacted changelog (acked, acks=all) before it is in the local store, so what a
caller was told is stored survives a crash or a move of the partition; a process
that takes a partition reads the changelog written since its store's offset.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.runtime.changelog import changelog_key
from streams.runtime.producing import produce
from streams.runtime.restore import restore
from streams.runtime.sending import Outgoing
from streams.runtime.store import KeyValueStore


class PartitionTable:
    """One partition's keys; ``put`` returns once the value is on the changelog and on disk."""

    def __init__(self, store: KeyValueStore, producer: AIOKafkaProducer, changelog: TopicPartition):
        self.store = store
        self.producer = producer
        self.changelog = changelog
        # One write at a time: the store's offset must never claim a changelog record
        # whose value a concurrent writer has not stored yet.
        self._writing = asyncio.Lock()

    def get(self, key: str) -> bytes | None:
        return self.store.get(key)

    async def put(self, key: str, value: bytes, bound: Any) -> None:
        message = Outgoing(
            self.changelog.topic, changelog_key(key), value, None, self.changelog.partition
        )
        async with self._writing:
            [metadata] = await produce(self.producer, [message], bound)
            self.store.write({key: value}, metadata.offset)


class Tables:
    """The open partitions of one table: opened (and restored) on assignment, closed on revoke."""

    def __init__(self, root: Path, name: str, changelog_topic: str, producer: AIOKafkaProducer):
        self.root = root
        self.name = name
        self.changelog_topic = changelog_topic
        self.producer = producer
        self._open: dict[int, PartitionTable] = {}

    async def open(self, partition: int, restorer: AIOKafkaConsumer) -> PartitionTable:
        if partition not in self._open:
            store = KeyValueStore(self.root / f"{self.name}-{partition}")
            changelog = TopicPartition(self.changelog_topic, partition)
            await restore(restorer, changelog, store)
            self._open[partition] = PartitionTable(store, self.producer, changelog)
        return self._open[partition]

    def get(self, partition: int) -> PartitionTable:
        return self._open[partition]

    def close(self, partition: int) -> None:
        table = self._open.pop(partition, None)
        if table is not None:
            table.store.close()

    def close_all(self) -> None:
        for partition in list(self._open):
            self.close(partition)
