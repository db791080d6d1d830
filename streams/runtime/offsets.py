"""Which offset of each partition may be committed: the first one whose work is not finished.

Work on a partition's messages may finish out of order (two clips side by side); a
commit must still never pass a message whose work is unfinished, or a crash would
skip it. Messages that need no work pass at the cost of one assignment.
"""

from __future__ import annotations

from aiokafka import TopicPartition


class PartitionOffsets:
    """One partition: the messages taken in log order, and those whose work is open."""

    def __init__(self) -> None:
        # Insertion-ordered, so the first key is the lowest open offset.
        self._open: dict[int, None] = {}
        self._next: int | None = None

    def passed(self, offset: int) -> None:
        """A message that needed nothing: done as soon as it was read."""
        self._next = offset + 1

    def opened(self, offset: int) -> None:
        self._open[offset] = None
        self._next = offset + 1

    def finished(self, offset: int) -> None:
        self._open.pop(offset, None)

    @property
    def open(self) -> int:
        return len(self._open)

    def position(self) -> int | None:
        """The offset to commit (everything below it is done); None before any message."""
        return next(iter(self._open), self._next)


class Offsets:
    """The partitions this process owns; what to commit, and what was."""

    def __init__(self) -> None:
        self.partitions: dict[TopicPartition, PartitionOffsets] = {}
        self._committed: dict[TopicPartition, int] = {}

    def assign(self, tp: TopicPartition) -> PartitionOffsets:
        self.partitions[tp] = PartitionOffsets()
        self._committed.pop(tp, None)
        return self.partitions[tp]

    def revoke(self, tp: TopicPartition) -> None:
        self.partitions.pop(tp, None)
        self._committed.pop(tp, None)

    def due(self, only: set[TopicPartition] | None = None) -> dict[TopicPartition, int]:
        """Positions that moved since their last commit."""
        found: dict[TopicPartition, int] = {}
        for tp, offsets in self.partitions.items():
            if only is not None and tp not in only:
                continue
            position = offsets.position()
            if position is not None and position != self._committed.get(tp):
                found[tp] = position
        return found

    def committed(self, positions: dict[TopicPartition, int]) -> None:
        for tp, position in positions.items():
            if tp in self.partitions:
                self._committed[tp] = position
