"""From a validated request to the envelope on the commands topic (docs/architecture.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from api.auth.principal import Principal
from api.problems import Problem, field_error
from schemas.base import Command
from schemas.envelope import Envelope
from schemas.ids import aggregate_id_for, command_id_for, command_id_on, fingerprint

IDEMPOTENCY_HEADER = "Idempotency-Key"
CORRELATION_HEADER = "X-Correlation-Id"
MAX_KEY_CHARS = 255


@dataclass(frozen=True)
class Prepared:
    """A command ready to produce, with what the 202 answer and the checks need."""

    envelope: Envelope
    fingerprint: str

    @property
    def command_id(self) -> uuid.UUID:
        return self.envelope.command_id

    @property
    def aggregate_id(self) -> uuid.UUID:
        return self.envelope.aggregate_id


def _bad_header(name: str, msg: str) -> Problem:
    return Problem(
        400, f"{name}: {msg}", kind="bad-header", errors=[field_error(["header", name], msg)]
    )


def idempotency_key(request: web.Request, *, required: bool) -> str | None:
    """1-255 visible ASCII characters (RFC 9110 token-ish; no spaces, no controls)."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        if required:
            raise _bad_header(IDEMPOTENCY_HEADER, "this command needs an Idempotency-Key header")
        return None
    # Visible ASCII is 0x21-0x7E: printable ASCII (0x20-0x7E) without the space.
    visible = key.isascii() and key.isprintable() and " " not in key
    if not 1 <= len(key) <= MAX_KEY_CHARS or not visible:
        raise _bad_header(IDEMPOTENCY_HEADER, "use 1-255 visible ASCII characters")
    return key


def correlation_id(request: web.Request) -> uuid.UUID | None:
    raw = request.headers.get(CORRELATION_HEADER)
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise _bad_header(CORRELATION_HEADER, "must be a UUID") from exc


def prepare(
    request: web.Request,
    who: Principal,
    command: Command,
    data: dict[str, Any],
    *,
    key: str | None,
    aggregate_id: uuid.UUID | None = None,
) -> Prepared:
    """Builds the envelope. A creating command (no ``aggregate_id``) derives every id
    from (org, key); a command on an existing aggregate gets an id derived from (org,
    key, aggregate) - one key reused on two items makes two commands - or a random one."""
    if aggregate_id is None:
        if key is None:
            raise ValueError("a creating command needs an idempotency key")
        command_id = command_id_for(who.org_id, key)
        target = aggregate_id_for(command_id)
    else:
        command_id = (
            command_id_on(who.org_id, key, aggregate_id) if key is not None else uuid.uuid4()
        )
        target = aggregate_id
    # Constructed, not validated again: every field is already checked (the command by
    # its model, org/sub/kind by the token verifier, ids and times made here), and
    # validation was the single largest cost of preparing a command.
    envelope = Envelope.model_construct(
        id=command_id,  # the message *is* the command: a retry reproduces it
        type=command.TYPE,
        version=command.VERSION,
        org_id=who.org_id,
        aggregate_type=command.AGGREGATE_TYPE,
        aggregate_id=target,
        occurred_at=datetime.now(UTC),
        command_id=command_id,
        correlation_id=correlation_id(request) or command_id,
        causation_id=command_id,
        actor=who.actor,
        data=data,
    )
    return Prepared(envelope=envelope, fingerprint=fingerprint(command.TYPE, data))
