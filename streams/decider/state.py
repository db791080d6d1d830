"""The stores of the partitions this process owns, with their records kept parsed."""

from __future__ import annotations

from pathlib import Path

from streams.decider.record import AggregateRecord
from streams.decider.store import PartitionStore

# Parsed records kept per partition; past this that partition's memory starts again
# (it only saves parsing: the store has every record).
CACHE_LIMIT = 100_000


class Stores:
    """Partition -> its store; opened when the partition is assigned, closed on revoke."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[int, PartitionStore] = {}
        self._parsed: dict[int, dict[str, AggregateRecord | None]] = {}

    def open(self, partition: int) -> PartitionStore:
        if partition not in self._open:
            self._open[partition] = PartitionStore(self.root / f"aggregates-{partition}")
            self._parsed[partition] = {}
        return self._open[partition]

    def owns(self, partition: int) -> bool:
        return partition in self._open

    def close(self, partition: int) -> None:
        store = self._open.pop(partition, None)
        self._parsed.pop(partition, None)
        if store is not None:
            store.close()

    def close_all(self) -> None:
        for partition in list(self._open):
            self.close(partition)

    def get(self, partition: int, aggregate_id: str) -> AggregateRecord | None:
        parsed = self._parsed[partition]
        if aggregate_id not in parsed:
            if len(parsed) >= CACHE_LIMIT:
                parsed.clear()
            parsed[aggregate_id] = self._open[partition].get(aggregate_id)
        return parsed[aggregate_id]

    def write(
        self,
        partition: int,
        values: dict[str, bytes],
        records: dict[str, AggregateRecord],
        changelog_offset: int | None,
    ) -> None:
        """Stores a batch's records of one partition (serialized and parsed alike)."""
        self._open[partition].write(values, changelog_offset)
        self._parsed[partition].update(records)
