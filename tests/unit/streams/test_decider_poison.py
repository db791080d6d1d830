"""Reading commands off the log: what is poison, and which poison still gets an outcome."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from schemas.codec import encode, wrap
from schemas.commands import CancelItem
from schemas.envelope import SYSTEM_ACTOR, Actor, Envelope
from schemas.events import ItemCancelled
from schemas.ids import event_id_for
from streams.decider.poison import Poison, read_command

RECEIVED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
COMMAND_ID = uuid.UUID("11111111-2222-5333-8444-555555555555")
ITEM_ID = uuid.UUID("99999999-8888-5777-8666-555555555555")
KEY = str(ITEM_ID).encode()


def cancel_envelope() -> Envelope:
    return wrap(
        CancelItem(reason="x"),
        id=COMMAND_ID,
        org_id="org-a",
        aggregate_id=ITEM_ID,
        occurred_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        command_id=COMMAND_ID,
        correlation_id=COMMAND_ID,
        causation_id=COMMAND_ID,
        actor=Actor(sub="u1"),
    )


def raw(**changes: Any) -> bytes:
    body = json.loads(encode(cancel_envelope()))
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


def poison(key: bytes | None, value: bytes | None) -> Poison:
    read = read_command(key, value, RECEIVED)
    assert isinstance(read, Poison)
    return read


def test_a_valid_command_keyed_by_its_aggregate_is_read() -> None:
    read = read_command(KEY, encode(cancel_envelope()), RECEIVED)
    assert not isinstance(read, Poison)
    assert read.envelope == cancel_envelope()


def test_bytes_that_are_not_json_are_poison_without_an_outcome() -> None:
    result = poison(KEY, b"\xff\x00 not json")
    assert "invalid envelope" in result.reason
    assert result.outcome is None


def test_an_empty_message_is_poison() -> None:
    assert "tombstone" in poison(KEY, None).reason


def test_a_named_command_with_invalid_data_gets_a_rejected_outcome() -> None:
    result = poison(KEY, raw(data={"reason": 42}))
    assert "invalid queue.CancelItem data" in result.reason
    outcome = result.outcome
    assert outcome is not None
    assert result.outcome_key == KEY
    assert (outcome.id, outcome.aggregate_id, outcome.sequence) == (
        event_id_for(COMMAND_ID, 0),
        COMMAND_ID,
        1,
    )
    assert (outcome.data["outcome"], outcome.data["status"]) == ("rejected", 422)
    assert outcome.data["reason"].startswith("invalid command: ")
    assert outcome.data["target_aggregate_id"] == str(ITEM_ID)
    assert outcome.occurred_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert outcome.actor == Actor(sub="u1")


def test_the_rejected_outcome_of_poison_is_the_same_on_redelivery() -> None:
    value = raw(type="queue.TeleportItem")
    assert poison(KEY, value).outcome == poison(KEY, value).outcome


def test_an_unknown_type_is_refused_by_name() -> None:
    result = poison(KEY, raw(type="queue.TeleportItem"))
    assert "unknown message type 'queue.TeleportItem'" in result.reason
    assert result.outcome is not None
    assert result.outcome.data["command_type"] == "queue.TeleportItem"


def test_an_envelope_without_an_organization_is_poison_without_an_outcome() -> None:
    result = poison(KEY, raw(org_id=None))
    assert "org_id" in result.reason
    assert result.outcome is None


def test_a_broken_envelope_falls_back_to_the_record_time_and_the_system_actor() -> None:
    result = poison(KEY, raw(occurred_at="yesterday", actor="me"))
    assert result.outcome is not None
    assert result.outcome.occurred_at == RECEIVED
    assert result.outcome.actor == SYSTEM_ACTOR


def test_an_event_on_the_commands_topic_is_poison_and_never_gets_an_outcome() -> None:
    event = wrap(
        ItemCancelled(reason=""),
        id=uuid.uuid4(),
        org_id="org-a",
        aggregate_id=ITEM_ID,
        sequence=2,
        occurred_at=RECEIVED,
        command_id=COMMAND_ID,
        correlation_id=COMMAND_ID,
        causation_id=COMMAND_ID,
        actor=Actor(sub="u1"),
    )
    result = poison(KEY, encode(event))
    assert result.reason == "queue.ItemCancelled is not a command"
    assert result.outcome is None


def test_a_command_whose_envelope_id_is_not_its_command_id_gets_no_outcome() -> None:
    assert poison(KEY, raw(id=str(uuid.uuid4()), data=[])).outcome is None


def test_a_command_keyed_by_something_else_than_its_aggregate_is_refused() -> None:
    result = poison(b"some-other-key", encode(cancel_envelope()))
    assert "key" in result.reason
    assert result.outcome is not None
    assert result.outcome_key == KEY
