"""The decider's state on disk and its batches: what a batch of commands becomes."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.catalog import Topics
from schemas.codec import decode, encode, read
from schemas.commands import CancelItem, EnqueueItem
from streams.decider.agent import Decider, Record
from streams.decider.handle import handle
from streams.decider.record import RECENT_DECISIONS, dump_record, load_record
from streams.decider.state import Stores
from streams.decider.store import PartitionStore, aggregate_of, changelog_key
from tests.unit.streams.test_decider_handle import addressing, creating

TOPICS = Topics("unit")


def record(partition: int, offset: int, envelope_bytes: bytes, key: bytes) -> Record:
    return Record("unit.commands", partition, offset, 1_700_000_000.0, key, envelope_bytes)


def test_a_partition_store_keeps_records_and_the_changelog_offset_across_reopening(
    tmp_path: Path,
) -> None:
    store = PartitionStore(tmp_path / "p0")
    assert (store.get("a"), store.offset()) == (None, -1)
    enqueue = creating("org-a", "k", EnqueueItem(platform="x", title="T"))

    decided = handle(read(encode(enqueue)), None)
    assert decided.record is not None
    store.write({"a": decided.record.model_dump_json().encode()}, 41)
    store.close()
    again = PartitionStore(tmp_path / "p0")
    assert again.get("a") == decided.record
    assert again.offset() == 41
    again.close()


def test_changelog_keys_are_the_json_strings_faust_wrote() -> None:
    assert changelog_key("abc") == b'"abc"'
    assert aggregate_of(b'"abc"') == "abc"


def test_a_batch_decides_in_log_order_and_stores_one_record_per_aggregate(
    tmp_path: Path,
) -> None:
    stores = Stores(tmp_path)
    stores.open(0)
    decider = Decider(TOPICS, stores, "unit-worker-aggregates-changelog")
    enqueue = creating("org-a", "k1", EnqueueItem(platform="x", title="T"))
    cancel = addressing("org-a", enqueue.aggregate_id, CancelItem())
    key = str(enqueue.aggregate_id).encode()
    batch = decider.decide_batch(
        [record(0, 10, encode(enqueue), key), record(0, 11, encode(cancel), key)]
    )
    types = [decode(m.value).type for m in batch.outgoing]
    assert types == [
        "queue.ItemEnqueued",
        "command.CommandOutcomeRecorded",
        "queue.ItemCancelled",
        "command.CommandOutcomeRecorded",
    ]
    # The cancel was decided against the state the enqueue left: applied, sequence 2.
    assert decode(batch.outgoing[2].value).sequence == 2
    assert batch.outgoing[0].headers == [("type", b"queue.ItemEnqueued")]
    (stored,) = batch.changed[0].values()
    assert stored.sequence == 2 and len(stored.decisions) == 2
    assert batch.offsets == {next(iter(batch.offsets)): 12}
    assert batch.commands == 2


def test_a_batch_sends_poison_to_the_dlq_and_still_moves_past_it(tmp_path: Path) -> None:
    stores = Stores(tmp_path)
    stores.open(1)
    decider = Decider(TOPICS, stores, "unit-worker-aggregates-changelog")
    batch = decider.decide_batch([record(1, 5, b"not json", b"k")])
    assert [m.topic for m in batch.outgoing] == ["unit.dlq"]
    assert batch.changed[1] == {}
    assert list(batch.offsets.values()) == [6]


def test_stores_write_through_to_disk_and_to_the_parsed_copy(tmp_path: Path) -> None:
    stores = Stores(tmp_path)
    stores.open(2)
    enqueue = creating("org-a", "k2", EnqueueItem(platform="x", title="T"))
    decider = Decider(TOPICS, stores, "c")
    key = str(enqueue.aggregate_id)
    batch = decider.decide_batch([record(2, 0, encode(enqueue), key.encode())])
    values = {k: r.model_dump_json().encode() for k, r in batch.changed[2].items()}
    stores.write(2, values, batch.changed[2], 7)
    stores.close(2)
    reopened = Stores(tmp_path)
    reopened.open(2)
    assert reopened.get(2, key) == batch.changed[2][key]
    # Values faust's JSON codec wrote (other spacing) read back the same.
    assert load_record(json.dumps(json.loads(values[key])).encode()) == batch.changed[2][key]


def one_item_and_cancels(tmp_path: Path, cancels: int) -> tuple[Decider, Stores, str, list[Record]]:
    """A decider on partition 0, and an enqueue followed by ``cancels`` cancels of it."""
    stores = Stores(tmp_path)
    stores.open(0)
    enqueue = creating("org-a", "item", EnqueueItem(platform="x", title="T"))
    key = str(enqueue.aggregate_id)
    commands = [
        enqueue,
        *(addressing("org-a", enqueue.aggregate_id, CancelItem()) for _ in range(cancels)),
    ]
    records = [record(0, n, encode(c), key.encode()) for n, c in enumerate(commands)]
    return Decider(TOPICS, stores, "c"), stores, key, records


def test_a_batch_may_write_its_changelog_beside_its_events_while_its_records_keep_them(
    tmp_path: Path,
) -> None:
    decider, _, _, few = one_item_and_cancels(tmp_path, 3)
    assert decider.decide_batch(few).replayable()


def test_a_batch_whose_record_trimmed_one_of_its_own_decisions_sends_events_first(
    tmp_path: Path,
) -> None:
    # One command more than a record keeps the envelopes of: the first one's are gone
    # from the record this batch would write, so a redelivery could not re-send them.
    decider, _, key, many = one_item_and_cancels(tmp_path, RECENT_DECISIONS)
    batch = decider.decide_batch(many)
    assert next(iter(batch.changed[0][key].decisions.values())).envelopes is None
    assert not batch.replayable()


def test_trimming_a_decision_of_an_earlier_batch_does_not_hold_the_changelog_back(
    tmp_path: Path,
) -> None:
    decider, stores, key, many = one_item_and_cancels(tmp_path, RECENT_DECISIONS)
    first = decider.decide_batch(many[:20])
    stores.write(0, {key: dump_record(first.changed[0][key])}, first.changed[0], None)
    second = decider.decide_batch(many[20:])
    # The enqueue's envelopes are trimmed now, but it was decided (and its events
    # confirmed) by the first batch: the second may still write both at once.
    assert next(iter(second.changed[0][key].decisions.values())).envelopes is None
    assert second.replayable()
