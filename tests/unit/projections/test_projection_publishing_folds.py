"""The queue item row agrees with the decider's own fold after every publishing event."""

from __future__ import annotations

from collections.abc import Hashable

import pytest

from projections.apply import handlers_for
from projections.handlers import AUDIT_ONLY, EVENT_HANDLERS
from projections.handlers.audit import REDACTED, event_row
from projections.tables import PUBLISH_ATTEMPTS, QUEUE_ITEMS, Row, Table
from schemas.base import Event, Message
from schemas.codec import Decoded, encode, read
from schemas.envelope import Envelope
from schemas.publishing import ConnectionCreated, PublishCheckpointed
from streams.domain import publish, queue
from tests.integration.projections.publishing_events import SEALED, History, lifecycles

ITEMS = ("published", "retried", "unconfirmed", "quota", "waiting")


def decoded(env: Envelope) -> Decoded[Message]:
    return read(encode(env))


def fold_all(
    history: History,
) -> tuple[dict[Table, dict[Hashable, Row]], list[tuple[Row, queue.QueueItemState]]]:
    """Folds the history like the projector, and after each event pairs the item's
    row with the decider's state."""
    rows: dict[Table, dict[Hashable, Row]] = {}
    state: queue.QueueItemState | None = None
    pairs: list[tuple[Row, queue.QueueItemState]] = []
    for env in history.events:
        record = decoded(env)
        for handler in handlers_for("events", record):
            table = rows.setdefault(handler.table, {})
            key = handler.key(env)
            new = handler.fold(table.get(key), record)
            if new is not None:
                table[key] = new
        assert isinstance(record.message, Event)
        state = queue.evolve(state, record.message)
        pairs.append((rows[QUEUE_ITEMS][env.aggregate_id], state))
    return rows, pairs


@pytest.mark.parametrize("name", ITEMS)
def test_status_schedule_due_time_and_attempts_follow_the_decider_event_by_event(
    name: str,
) -> None:
    _, pairs = fold_all(lifecycles()[name])

    for row, state in pairs:
        assert row["status"] == state.status
        assert row["schedule_at"] == state.schedule_at
        assert row["attempts"] == state.attempt
        assert row["connection_id"] == state.connection_id
        assert row["due_at"] == (state.due if state.status in publish.STARTABLE else None)
        if state.status in publish.STARTABLE:
            assert row["next_attempt_at"] == state.due_at


def test_a_repeated_event_changes_no_row() -> None:
    history = lifecycles()["retried"]
    rows, _ = fold_all(history)
    twice = History(history.aggregate, history.org_id, [e for e in history.events for _ in "ab"])

    again, _ = fold_all(twice)

    assert again == rows
    assert len(rows[PUBLISH_ATTEMPTS]) == 3


def test_the_audit_row_of_a_connection_or_a_checkpoint_keeps_no_secret() -> None:
    histories = lifecycles()
    created = histories["connection"].events[0]
    checkpoint = histories["published"].events[2]

    created_data = event_row(created)[-1]
    checkpoint_data = event_row(checkpoint)[-1]

    assert (created.type, checkpoint.type) == (ConnectionCreated.TYPE, PublishCheckpointed.TYPE)
    assert created.data["sealed_credentials"] == SEALED  # the log itself keeps it
    assert created_data == {**created.data, "sealed_credentials": REDACTED}
    assert checkpoint_data == {"attempt": 1, "session": REDACTED}


def test_a_checkpoint_is_audit_only() -> None:
    assert PublishCheckpointed.TYPE in AUDIT_ONLY
    assert PublishCheckpointed.TYPE not in EVENT_HANDLERS
