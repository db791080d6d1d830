"""The scheduler's due index: what is due, earliest first, kept in step with the table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from streams.publishing.tracking import Due, DueIndex, Tracker

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def due(minutes: float, attempt: int = 1) -> Due:
    return Due(
        at=T0 + timedelta(minutes=minutes),
        attempt=attempt,
        org_id="o",
        correlation_id=uuid.UUID(int=1),
    )


def test_only_entries_due_by_now_come_back_earliest_first() -> None:
    index = DueIndex()
    index.set("late", due(10))
    index.set("b", due(-1))
    index.set("a", due(-5))
    assert [k for k, _ in index.due(T0)] == ["a", "b"]
    assert [k for k, _ in index.due(T0 + timedelta(hours=1))] == ["a", "b", "late"]


def test_a_moved_or_removed_entry_is_found_only_at_its_new_time() -> None:
    index = DueIndex()
    index.set("x", due(-5))
    index.set("x", due(5, attempt=2))  # rescheduled: one entry, the new one
    assert index.due(T0) == [] and len(index) == 1
    assert index.due(T0 + timedelta(minutes=5)) == [("x", due(5, attempt=2))]
    index.set("x", None)
    assert index.due(T0 + timedelta(hours=1)) == [] and len(index) == 0
    index.set("never-there", None)  # harmless


def test_entries_at_the_same_instant_are_all_kept() -> None:
    index = DueIndex()
    for key in ("c", "a", "b"):
        index.set(key, due(0))
    index.set("a", None)
    assert [k for k, _ in index.due(T0)] == ["b", "c"]


def test_reindex_reads_the_table_written_behind_the_trackers_back() -> None:
    table: dict[str, bytes] = {"r": due(-1).model_dump_json().encode()}
    tracker = Tracker({}, table)
    assert tracker.due_items(T0) == []  # recovery wrote the table, not put()
    assert tracker.reindex() == 1
    assert tracker.due_items(T0) == [("r", due(-1))]
