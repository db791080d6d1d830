"""The handlers as pure folds: guards, order independence, what a batch writes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from projections.apply import handlers_for
from projections.handlers import COMMAND_HANDLER, EVENT_HANDLERS, Handler, assets
from projections.merge import apply_folds, fold_batch
from projections.tables import QUEUE_ITEMS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded, encode, read, wrap
from schemas.commands import EnqueueItem
from schemas.envelope import Actor
from schemas.events import (
    AssetDeleted,
    AssetRegistrationRequested,
    CommandOutcomeRecorded,
    ItemCancelled,
    ItemEnqueued,
    ItemRescheduled,
)
from schemas.ids import fingerprint

T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)
ITEM = uuid.UUID(int=1)
COMMAND = uuid.UUID(int=2)


def decoded(
    message: Message, sequence: int | None, *, org: str = "org", at: datetime = T0
) -> Decoded[Message]:
    aggregate = COMMAND if isinstance(message, CommandOutcomeRecorded) else ITEM
    env = wrap(
        message,
        id=uuid.uuid4(),
        org_id=org,
        aggregate_id=aggregate,
        occurred_at=at,
        command_id=COMMAND,
        correlation_id=COMMAND,
        causation_id=COMMAND,
        actor=Actor(sub="tester"),
        sequence=sequence,
    )
    return read(encode(env))


def enqueued(**kw: object) -> Decoded[Message]:
    message = ItemEnqueued(
        platform="youtube",
        title="a video",
        description="",
        project_id=None,
        asset_id=None,
        schedule_at=T0 + timedelta(days=1),
        timezone="Europe/Paris",
        target={},
    )
    return decoded(message, 1, **kw)  # type: ignore[arg-type]


def run(handler: Handler, row: Row | None, *records: Decoded[Message]) -> Row | None:
    for record in records:
        row = handler.fold(row, record)
    return row


ENQUEUED = EVENT_HANDLERS[ItemEnqueued.TYPE]
MOVED = EVENT_HANDLERS[ItemRescheduled.TYPE]
CANCELLED = EVENT_HANDLERS[ItemCancelled.TYPE]
OUTCOME = EVENT_HANDLERS[CommandOutcomeRecorded.TYPE]


def test_enqueue_then_reschedule_then_cancel_leaves_the_last_state_and_sequence() -> None:
    later = T0 + timedelta(days=9)
    row = run(ENQUEUED, None, enqueued())
    row = run(MOVED, row, decoded(ItemRescheduled(schedule_at=later), 2))
    row = run(CANCELLED, row, decoded(ItemCancelled(reason="no"), 3))

    assert row is not None
    assert (row["status"], row["schedule_at"], row["version"]) == ("cancelled", later, 3)
    assert row["created_at"] == T0 and row["attempts"] == 0


def test_a_change_at_or_below_the_rows_version_or_of_another_org_changes_nothing() -> None:
    row = run(ENQUEUED, None, enqueued())
    assert row is not None
    moved = run(MOVED, row, decoded(ItemRescheduled(schedule_at=T0), 2))

    assert run(MOVED, moved, decoded(ItemRescheduled(schedule_at=T0 + timedelta(1)), 2)) is moved
    assert run(CANCELLED, row, decoded(ItemCancelled(reason="x"), 2, org="other")) is row
    assert run(CANCELLED, None, decoded(ItemCancelled(reason="x"), 2)) is None


def test_a_second_creation_keeps_the_first_row() -> None:
    first = run(ENQUEUED, None, enqueued())

    assert run(ENQUEUED, first, enqueued(at=T0 + timedelta(hours=1))) is first


def command_record(at: datetime) -> Decoded[Message]:
    return decoded(EnqueueItem(platform="youtube", title="a video"), None, at=at)


def outcome_record(at: datetime) -> Decoded[Message]:
    message = CommandOutcomeRecorded(
        command_type=EnqueueItem.TYPE,
        outcome="applied",
        target_aggregate_type="queue_item",
        target_aggregate_id=ITEM,
        fingerprint=fingerprint(EnqueueItem.TYPE, {}),
        event_ids=[uuid.uuid4()],
    )
    return decoded(message, 1, at=at)


@pytest.mark.parametrize("outcome_first", [False, True])
def test_a_commands_row_is_the_same_whichever_topic_is_read_first(outcome_first: bool) -> None:
    command, retry = command_record(T0 + timedelta(seconds=1)), command_record(T0)
    decided = outcome_record(T0 + timedelta(seconds=2))
    steps = [(OUTCOME, decided), (COMMAND_HANDLER, command), (COMMAND_HANDLER, retry)]
    if not outcome_first:
        steps = steps[1:] + steps[:1]
    row: Row | None = None
    for handler, record in steps:
        row = handler.fold(row, record)

    assert row is not None
    assert (row["outcome"], row["requested_at"]) == ("applied", T0)
    assert row["decided_at"] == T0 + timedelta(seconds=2)


def test_a_batch_folds_each_row_in_log_order_and_indexes_an_event_id_once() -> None:
    created = enqueued()
    moved = decoded(ItemRescheduled(schedule_at=T0 + timedelta(days=5)), 2)
    records = [("events", created), ("events", created), ("events", moved)]

    steps, audit = fold_batch(records, handlers_for)  # type: ignore[arg-type]
    rows: dict[object, Row] = {}
    changed = {table.name: apply_folds(rows, todo) for table, todo in steps.items()}

    # Event ids, in log order: the re-emitted copy is left out.
    assert [row[0] for row in audit] == [created.envelope.id, moved.envelope.id]
    assert changed["queue_items"][ITEM]["version"] == 2
    assert set(changed) == {"organizations", "queue_items"}


def test_a_new_row_names_every_column_and_refuses_unknown_ones() -> None:
    row = new_row(QUEUE_ITEMS, id=ITEM)

    assert tuple(row) == QUEUE_ITEMS.columns and row["title"] is None
    with pytest.raises(KeyError, match="no column colour"):
        new_row(QUEUE_ITEMS, colour="red")


def test_a_deleted_asset_keeps_its_row_marked_deleted_and_ignores_other_orgs() -> None:
    requested = AssetRegistrationRequested(path="in/a.mp4", kind="video", title="", project_id=None)
    row = assets.registration_requested(None, decoded(requested, 1))
    assert row is not None
    gone = AssetDeleted(path="in/a.mp4")
    assert assets.deleted(row, decoded(gone, 2, org="other")) == row  # not its asset
    after = assets.deleted(row, decoded(gone, 2))
    assert after is not None and (after["status"], after["version"]) == ("deleted", 2)
    assert assets.deleted(after, decoded(gone, 2)) == after  # a redelivery changes nothing
    assert assets.deleted(None, decoded(gone, 2)) is None
