"""The scheduler's due index: what is due, earliest first, kept in step with the table;
and when the scheduler wakes for the next entry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.catalog import Topics
from streams.publishing.scheduler import MIN_WAKE_SECONDS, WAKE_MARGIN_SECONDS, Scheduler
from streams.publishing.tracking import Due, DueIndex, Tracker
from streams.runtime.sending import Outgoing

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


def test_the_next_entry_to_fall_due_is_the_earliest_after_now() -> None:
    index = DueIndex()
    assert index.next_after(T0) is None
    index.set("past", due(-5))
    index.set("now", due(0))  # due at T0 already: not one to wait for
    assert index.next_after(T0) is None
    index.set("soon", due(2))
    index.set("later", due(9))
    assert index.next_after(T0) == T0 + timedelta(minutes=2)
    index.set("soon", None)
    assert index.next_after(T0) == T0 + timedelta(minutes=9)


def test_the_scheduler_wakes_when_an_entry_falls_due_within_the_tick() -> None:
    tracker = Tracker({}, {})
    clock = [T0]
    scheduler = Scheduler(_no_produce, Topics("t"), tracker, clock=lambda: clock[0])
    assert scheduler.wait(0.2) == 0.2  # nothing due at all
    tracker.index.set("a", due(-1))  # claimed already, its start on its way
    assert scheduler.wait(0.2) == 0.2
    tracker.index.set("b", due(0.001))  # 60 ms from now
    assert abs(scheduler.wait(0.2) - (0.06 + WAKE_MARGIN_SECONDS)) < 1e-9
    tracker.index.set("b", due(0.0001))  # 6 ms from now: not sooner than the minimum
    assert scheduler.wait(0.2) == MIN_WAKE_SECONDS
    tracker.index.set("b", due(1))  # further than a tick
    assert scheduler.wait(0.2) == 0.2


async def _no_produce(batch: list[Outgoing], bound: Any) -> None:
    raise AssertionError("not sent in this test")
