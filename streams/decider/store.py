"""The decider's state: one RocksDB per commands partition, its changelog the truth.

Each partition's records (aggregate id -> AggregateRecord JSON) live in a local
RocksDB (``rocksdict``) under the data directory, together with the changelog offset
they are current up to. The changelog topic (``<group>-aggregates-changelog``,
compacted, partitioned like the commands topic) is the durable copy: a process that
takes a partition over, or lost its disk, reads it back (streams/decider/restore.py).

The key and value format is the one faust wrote for this table (JSON-encoded key,
the record's JSON as the value), so a deployment's existing changelog reads back.
"""

from __future__ import annotations

import json
from pathlib import Path

from rocksdict import Options, Rdict, WriteBatch

from streams.decider.record import AggregateRecord, load_record

# The changelog offset a partition's store is current up to, kept in the store itself
# so it is written in the same batch as the records it covers.
OFFSET_KEY = b"\x00changelog-offset"


def changelog_key(aggregate_id: str) -> bytes:
    return json.dumps(aggregate_id).encode()


def aggregate_of(changelog_key: bytes) -> str:
    return str(json.loads(changelog_key))


class PartitionStore:
    """One partition's records on disk; writes go in batches with their offset."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        self._db = Rdict(str(path), options)
        self.path = path

    def get(self, aggregate_id: str) -> AggregateRecord | None:
        raw = self._db.get(aggregate_id.encode())
        return load_record(raw)

    def offset(self) -> int:
        """The last changelog offset applied (-1: nothing yet)."""
        raw = self._db.get(OFFSET_KEY)
        return -1 if raw is None else int(raw)

    def write(self, values: dict[str, bytes], changelog_offset: int | None) -> None:
        """Stores records (aggregate id -> JSON) and, if given, the offset they reach."""
        batch = WriteBatch(raw_mode=True)
        for aggregate_id, value in values.items():
            batch.put(aggregate_id.encode(), value)
        if changelog_offset is not None:
            batch.put(OFFSET_KEY, str(changelog_offset).encode())
        self._db.write(batch)

    def close(self) -> None:
        self._db.close()
