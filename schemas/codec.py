"""Bytes on the log <-> envelopes and typed payloads, with upcasting on read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import ValidationError
from pydantic_core import to_json

from schemas.base import Message
from schemas.catalog import COMMAND_TYPES, EVENT_TYPES
from schemas.envelope import Actor, Envelope
from schemas.upcasting import upcast

M = TypeVar("M", bound=Message)
M2 = TypeVar("M2", bound=Message)


class DecodeError(ValueError):
    """A message that cannot be understood; it belongs in the DLQ with this reason."""


def encode(envelope: Envelope) -> bytes:
    return envelope.model_dump_json().encode()


@dataclass(frozen=True)
class Decoded(Generic[M]):
    """A message read once: its (upcast) envelope and its validated, typed payload.

    Hot paths decode each message exactly once and pass this along, instead of
    validating ``envelope.data`` again wherever the payload is needed.
    """

    envelope: Envelope
    message: M

    def as_(self, model: type[M2]) -> M2:
        if not isinstance(self.message, model):
            raise DecodeError(f"expected {model.TYPE}, got {self.envelope.type}")
        return self.message


def decode(raw: bytes | None) -> Envelope:
    """Parses an envelope and upcasts its data to the current version of its type."""
    return read(raw).envelope


def read(raw: bytes | None) -> Decoded[Message]:
    """Parses, upcasts and validates a message once: envelope and typed payload."""
    if raw is None:
        raise DecodeError("empty message (tombstone)")
    try:
        envelope = Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise DecodeError(f"invalid envelope: {_first_error(exc)}") from exc
    model = COMMAND_TYPES.get(envelope.type) or EVENT_TYPES.get(envelope.type)
    if model is None:
        raise DecodeError(f"unknown message type {envelope.type!r}")
    if envelope.version > model.VERSION:
        raise DecodeError(
            f"{envelope.type} v{envelope.version} is newer than this build knows (v{model.VERSION})"
        )
    if envelope.version < model.VERSION:
        try:
            data = upcast(envelope.type, envelope.version, model.VERSION, envelope.data)
        except KeyError as exc:
            raise DecodeError(str(exc)) from exc
        envelope = envelope.model_copy(update={"version": model.VERSION, "data": data})
    # Validated now, so consumers never see a bad payload, and never validate it again.
    return Decoded(envelope, payload(envelope))


def payload(envelope: Envelope) -> Message:
    """The typed payload of an (already upcast) envelope."""
    model = COMMAND_TYPES.get(envelope.type) or EVENT_TYPES.get(envelope.type)
    if model is None:
        raise DecodeError(f"unknown message type {envelope.type!r}")
    try:
        return model.model_validate(envelope.data)
    except ValidationError as exc:
        raise DecodeError(f"invalid {envelope.type} data: {_first_error(exc)}") from exc


def payload_as(envelope: Envelope, model: type[M]) -> M:
    message = payload(envelope)
    if not isinstance(message, model):
        raise DecodeError(f"expected {model.TYPE}, got {envelope.type}")
    return message


def wrap(
    message: Message,
    *,
    id: uuid.UUID,
    org_id: str,
    aggregate_id: uuid.UUID,
    occurred_at: datetime,
    command_id: uuid.UUID,
    correlation_id: uuid.UUID,
    causation_id: uuid.UUID,
    actor: Actor,
    sequence: int | None = None,
) -> Envelope:
    """Puts a payload in an envelope; ``data`` is the payload's JSON form."""
    return Envelope(
        id=id,
        type=message.TYPE,
        version=message.VERSION,
        org_id=org_id,
        aggregate_type=message.AGGREGATE_TYPE,
        aggregate_id=aggregate_id,
        sequence=sequence,
        occurred_at=occurred_at,
        command_id=command_id,
        correlation_id=correlation_id,
        causation_id=causation_id,
        actor=actor,
        data=message.model_dump(mode="json"),
    )


# Envelope's fields in their order, the order of its JSON: encode_wrapped must write
# the bytes encode(wrap(...)) writes, so it fails at import if the envelope changes.
_ENVELOPE_FIELDS = (
    "id",
    "type",
    "version",
    "org_id",
    "aggregate_type",
    "aggregate_id",
    "sequence",
    "occurred_at",
    "command_id",
    "correlation_id",
    "causation_id",
    "actor",
    "data",
)
if tuple(Envelope.model_fields) != _ENVELOPE_FIELDS:  # pragma: no cover - a guard
    raise ImportError("schemas.codec.encode_wrapped no longer matches Envelope's fields")


def encode_wrapped(
    message: Message,
    *,
    id: uuid.UUID,
    origin: Envelope,
    aggregate_id: uuid.UUID,
    sequence: int | None = None,
) -> bytes:
    """``encode(wrap(message, ...))`` for an envelope that follows from a decoded one,
    ``origin`` (the command): its organization, time, ids and actor, caused by it.

    Those parts are validated already, and so is the payload, so the JSON is written
    straight from them by the serializer ``encode`` uses, without building (and
    validating) an Envelope and a dict of the payload first: a fifth of the decider's
    CPU per command went there. The bytes are the same
    (tests/unit/streams/test_decider_envelopes.py).
    """
    return to_json(
        {
            "id": id,
            "type": message.TYPE,
            "version": message.VERSION,
            "org_id": origin.org_id,
            "aggregate_type": message.AGGREGATE_TYPE,
            "aggregate_id": aggregate_id,
            "sequence": sequence,
            "occurred_at": origin.occurred_at,  # in UTC: Envelope's validator made it so
            "command_id": origin.command_id,
            "correlation_id": origin.correlation_id,
            "causation_id": origin.id,
            "actor": origin.actor,
            "data": message,
        },
        # What model_dump_json does: field names, not aliases; NaN and infinity as null.
        by_alias=False,
        inf_nan_mode="null",
    )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(root)"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {err['msg']}{more}"
