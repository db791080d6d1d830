"""Which records the projector applies and which it dead-letters, before any I/O."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from projections.apply import Poison, parse
from projections.handlers import EVENT_HANDLERS
from projections.redrive import envelope_id
from schemas.catalog import EVENT_TYPES
from schemas.codec import encode, wrap
from schemas.commands import CancelItem
from schemas.envelope import Actor, Envelope
from schemas.events import ItemCancelled

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def envelope(message: CancelItem | ItemCancelled, sequence: int | None) -> Envelope:
    some = uuid.uuid4()
    return wrap(
        message,
        id=some,
        org_id="org",
        aggregate_id=uuid.uuid4(),
        occurred_at=NOW,
        command_id=some,
        correlation_id=some,
        causation_id=some,
        actor=Actor(sub="someone"),
        sequence=sequence,
    )


def test_an_event_on_the_events_topic_is_applied() -> None:
    env = envelope(ItemCancelled(reason="x"), 2)

    parsed = parse("events", encode(env))

    assert not isinstance(parsed, Poison)
    assert parsed.envelope == env and parsed.message == ItemCancelled(reason="x")


def test_a_command_on_the_commands_topic_is_applied() -> None:
    env = envelope(CancelItem(), None)

    parsed = parse("commands", encode(env))

    assert not isinstance(parsed, Poison) and parsed.envelope == env


def test_bytes_that_are_not_an_envelope_are_poison_with_the_reason() -> None:
    verdict = parse("events", b"\xff\xfe")

    assert isinstance(verdict, Poison) and verdict.reason.startswith("invalid envelope")


def test_a_tombstone_is_poison() -> None:
    assert parse("commands", None) == Poison("empty message (tombstone)")


def test_a_message_on_the_wrong_topic_is_poison() -> None:
    on_events = parse("events", encode(envelope(CancelItem(), None)))
    on_commands = parse("commands", encode(envelope(ItemCancelled(reason="x"), 1)))

    assert isinstance(on_events, Poison) and "not an event type" in on_events.reason
    assert isinstance(on_commands, Poison) and "not a command type" in on_commands.reason


def test_an_event_without_a_sequence_is_poison() -> None:
    verdict = parse("events", encode(envelope(ItemCancelled(reason="x"), None)))

    assert isinstance(verdict, Poison) and "has no sequence" in verdict.reason


def test_every_handler_is_registered_under_a_known_event_type() -> None:
    assert set(EVENT_HANDLERS) <= set(EVENT_TYPES)


def test_redrive_finds_the_envelope_id_without_validating_the_rest() -> None:
    some = str(uuid.uuid4())

    assert envelope_id(json.dumps({"id": some, "type": "junk"}).encode()) == some
    assert envelope_id(b"[1, 2]") is None
    assert envelope_id(b"not json") is None
    assert envelope_id(None) is None
