"""The decider's state: one RocksDB per commands partition, its changelog the truth.

Each partition's records (aggregate id -> AggregateRecord JSON) live in a local
RocksDB (streams/runtime/store.py) under the data directory, together with the
changelog offset they are current up to. The changelog topic
(``<group>-aggregates-changelog``, compacted, partitioned like the commands topic) is
the durable copy: a process that takes a partition over, or lost its disk, reads it
back (streams/runtime/restore.py).

The key and value format is the one faust wrote for this table (JSON-encoded key,
the record's JSON as the value), so a deployment's existing changelog reads back.
"""

from __future__ import annotations

from pathlib import Path

from streams.decider.record import AggregateRecord, load_record
from streams.runtime.changelog import changelog_key, key_of
from streams.runtime.store import KeyValueStore

__all__ = ["PartitionStore", "aggregate_of", "changelog_key"]


def aggregate_of(key: bytes) -> str:
    """The aggregate id a changelog key names."""
    return key_of(key)


class PartitionStore:
    """One partition's records on disk, read as AggregateRecords; writes go in batches
    with their changelog offset."""

    def __init__(self, path: Path) -> None:
        self._store = KeyValueStore(path)
        self.path = path

    def get(self, aggregate_id: str) -> AggregateRecord | None:
        return load_record(self._store.get(aggregate_id))

    def offset(self) -> int:
        """The last changelog offset applied (-1: nothing yet)."""
        return self._store.offset()

    def write(self, values: dict[str, bytes], changelog_offset: int | None) -> None:
        """Stores records (aggregate id -> JSON) and, if given, the offset they reach."""
        self._store.write(values, changelog_offset)

    def close(self) -> None:
        self._store.close()
