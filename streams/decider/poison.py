"""Reading a command off the log; what cannot be read is poison, with a reason.

A poison message goes to the DLQ unchanged. When enough of its envelope is readable
to name the command (command id, organization, target aggregate), it also gets a
``rejected`` outcome, so its sender does not wait on a pending command forever.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from schemas.base import Message
from schemas.catalog import COMMAND_TYPES, EVENT_TYPES
from schemas.codec import Decoded, DecodeError, read, wrap
from schemas.envelope import SYSTEM_ACTOR, Actor, Envelope
from schemas.events import CommandOutcomeRecorded
from schemas.ids import event_id_for, fingerprint
from streams.domain.common import UNPROCESSABLE

MAX_REASON_CHARS = 2000

T = TypeVar("T")


@dataclass(frozen=True)
class Poison:
    reason: str
    # The rejected outcome to produce, keyed by ``outcome_key``; None if unnamed.
    outcome: Envelope | None = None
    outcome_key: bytes | None = None


def read_command(
    key: bytes | None, value: bytes | None, received: datetime
) -> Decoded[Message] | Poison:
    """The command in a message, or why it is poison (``received``: the record timestamp)."""
    try:
        decoded = read(value)
    except DecodeError as exc:
        return _poison(str(exc), salvage(value), received)
    envelope = decoded.envelope
    if envelope.type not in COMMAND_TYPES:
        # An event (or other message) here is misrouted: its command id belongs to a
        # command decided elsewhere, so it must not get an outcome of its own.
        return Poison(f"{envelope.type} is not a command")
    if key != str(envelope.aggregate_id).encode():
        # The decider's table is sharded by the message key; a command keyed otherwise
        # would be decided against the wrong shard.
        reason = "message key is not the command's aggregate id"
        return _poison(reason, envelope.model_dump(mode="json"), received)
    return decoded


def salvage(value: bytes | None) -> dict[str, Any]:
    """Whatever JSON object a message holds, however invalid as an envelope ({} if none)."""
    try:
        raw = json.loads(value or b"")
    except ValueError:
        return {}
    return raw if isinstance(raw, dict) else {}


def _poison(reason: str, raw: dict[str, Any], received: datetime) -> Poison:
    outcome = _rejected_outcome(reason, raw, received)
    if outcome is None:
        return Poison(reason)
    target = outcome.data["target_aggregate_id"]
    return Poison(reason, outcome, str(target).encode())


def _rejected_outcome(reason: str, raw: dict[str, Any], received: datetime) -> Envelope | None:
    command_id = _parse(uuid.UUID, raw.get("command_id"))
    aggregate_id = _parse(uuid.UUID, raw.get("aggregate_id"))
    org_id = raw.get("org_id")
    message_type = raw.get("type")
    if command_id is None or aggregate_id is None or not isinstance(org_id, str):
        return None
    if not 1 <= len(org_id) <= 255 or message_type in EVENT_TYPES:
        return None
    if raw.get("id") not in (None, str(command_id)):
        # Commands travel with id == command_id; anything else is not a command we
        # can answer for without risking a second outcome for someone else's command.
        return None
    data = raw.get("data")
    command_type = message_type if isinstance(message_type, str) else "unknown"
    aggregate_type = raw.get("aggregate_type")
    outcome = CommandOutcomeRecorded(
        command_type=command_type[:200],
        outcome="rejected",
        target_aggregate_type=aggregate_type if isinstance(aggregate_type, str) else "unknown",
        target_aggregate_id=aggregate_id,
        fingerprint=fingerprint(command_type, data if isinstance(data, dict) else {}),
        reason=f"invalid command: {reason}"[:MAX_REASON_CHARS],
        status=UNPROCESSABLE,
    )
    return wrap(
        outcome,
        id=event_id_for(command_id, 0),
        org_id=org_id,
        aggregate_id=command_id,
        sequence=1,
        # Deterministic on redelivery: the envelope's own time, else the record's.
        occurred_at=_parse(datetime, raw.get("occurred_at")) or received.astimezone(UTC),
        command_id=command_id,
        correlation_id=_parse(uuid.UUID, raw.get("correlation_id")) or command_id,
        causation_id=command_id,
        actor=_parse(Actor, raw.get("actor")) or SYSTEM_ACTOR,
    )


def _parse(kind: type[T], value: Any) -> T | None:
    if value is None:
        return None
    try:
        parsed = TypeAdapter(kind).validate_python(value)
    except ValidationError:
        return None
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        return None
    return parsed
