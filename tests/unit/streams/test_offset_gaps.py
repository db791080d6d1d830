"""The decider's expected offsets: what counts as a gap Faust left behind."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from streams.decider.gaps import Positions


def table(data: dict[str, bytes] | None = None) -> Any:
    """A stand-in for the Faust table: Positions writes its local store, ``data``."""
    return SimpleNamespace(data={} if data is None else data)


def test_nothing_is_missing_before_the_first_message_of_a_partition() -> None:
    assert Positions(table(), "cmds").missing(0, 28) == range(0)


def test_a_message_beyond_the_expected_offset_reveals_the_skipped_ones() -> None:
    positions = Positions(table(), "cmds")
    positions.done(0, 21)
    assert positions.missing(0, 28) == range(22, 28)
    assert positions.missing(0, 22) == range(0)


def test_a_redelivered_older_message_is_not_a_gap_and_does_not_move_back() -> None:
    store: dict[str, bytes] = {}
    positions = Positions(table(store), "cmds")
    positions.done(1, 40)
    positions.done(1, 3)
    assert positions.missing(1, 5) == range(0)
    assert store == {"cmds:1": b"41"}


def test_partitions_are_tracked_apart() -> None:
    positions = Positions(table(), "cmds")
    positions.done(0, 10)
    assert positions.missing(1, 5) == range(0)
    assert positions.missing(0, 12) == range(11, 12)
