"""The publisher's table partitions without Kafka: which copy a read sees, and removals.

Flushing (the changelog) is tested against Kafka in
tests/integration/publishing/test_publisher_state.py.
"""

from __future__ import annotations

from pathlib import Path

from aiokafka import TopicPartition

from streams.publishing.state import ABSENT, PartitionTable
from streams.publishing.tracking import Tracker
from streams.runtime.store import KeyValueStore
from tests.unit.publishing.test_publishing_attempt_runner import started_item


def table(tmp_path: Path) -> PartitionTable:
    return PartitionTable(KeyValueStore(tmp_path / "t-0"), TopicPartition("t-changelog", 0))


def test_a_read_sees_pending_then_sending_then_recent_then_the_store(tmp_path: Path) -> None:
    t = table(tmp_path)
    t.store.write({"k": b"stored"}, 0)
    assert t.get("k") == b"stored"
    t.recent["k"] = b"flushed"
    assert t.get("k") == b"flushed"
    t.sending["k"] = b"on its way"
    assert t.get("k") == b"on its way"
    t.pending["k"] = b"new"
    assert t.get("k") == b"new"


def test_an_empty_value_is_a_removed_entry_for_reads_and_iteration(tmp_path: Path) -> None:
    t = table(tmp_path)
    t.store.write({"gone": b"old", "kept": b"v", "stored": b"s"}, 3)
    t.pending["gone"] = ABSENT
    t.pending["kept"] = b"v2"
    assert t.get("gone") is None
    assert dict(t.items()) == {"kept": b"v2", "stored": b"s"}


def test_the_store_iterates_its_values_without_the_changelog_offset(tmp_path: Path) -> None:
    store = KeyValueStore(tmp_path / "s")
    store.write({"a": b"1", "b": b"2"}, 41)
    assert dict(store.items()) == {"a": b"1", "b": b"2"}
    assert store.offset() == 41


def test_the_tracker_parses_a_value_it_wrote_or_read_once() -> None:
    items: dict[str, bytes] = {}
    tracker = Tracker(items, {})
    written, _ = started_item()
    tracker.put("i", written)
    assert tracker.get("i") is written  # the same value: not parsed again
    items["i"] = written.model_copy(update={"reported": 1}).model_dump_json().encode()
    assert tracker.get("i") is not written  # another value: parsed
    assert tracker.get("i").reported == 1  # type: ignore[union-attr]
