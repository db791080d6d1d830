"""One command in, the envelopes to produce and the record to store out. Pure, no I/O.

The decider's loop (streams/decider/agent.py) is a shell around ``handle``: it
produces ``Result.values`` keyed by ``Result.key`` and stores ``Result.record``.
Everything here is deterministic in (command, record), which is what makes
re-processing after a crash safe (docs/architecture.md, "Decider").
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from schemas.base import Command, Event, Message
from schemas.codec import Decoded, encode_wrapped
from schemas.envelope import Envelope
from schemas.events import CommandConflictRejected, CommandOutcomeRecorded, Outcome
from schemas.ids import derived_id, event_id_for, fingerprint
from streams.decider.record import AggregateRecord, StoredDecision
from streams.domain.common import CONFLICT, NOT_FOUND, UNPROCESSABLE, Decision, rejected
from streams.domain.registry import CREATING, HANDLERS, Aggregate

Kind = Literal["decided", "redelivered", "conflict"]


@dataclass(frozen=True)
class Result:
    kind: Kind
    key: bytes  # the target aggregate id: one aggregate's messages stay in one partition
    values: tuple[bytes, ...]
    record: AggregateRecord | None  # None: leave the stored record as it is
    outcome: Outcome | None = None
    # The message type of each value, for the ``type`` header consumers filter on.
    types: tuple[str, ...] = ()


def handle(decoded: Decoded[Message], record: AggregateRecord | None) -> Result:
    """``decoded``: a command read once off the log (its payload already validated)."""
    command = decoded.envelope
    key = str(command.aggregate_id).encode()
    digest = fingerprint(command.type, command.data)
    command_id = str(command.command_id)
    stored = record.decisions.get(command_id) if record is not None else None
    if stored is not None:
        if stored.fingerprint == digest:
            # Same command again (client retry or redelivery): the stored answer, unchanged.
            values = tuple(e.encode() for e in stored.envelopes or ())
            types = tuple(str(json.loads(v)["type"]) for v in values)
            return Result("redelivered", key, values, None, stored.outcome, types)
        refusal = _conflict(command, digest, stored.fingerprint)
        return Result("conflict", key, (refusal,), None, types=(CommandConflictRejected.TYPE,))
    return _decide(decoded, record or AggregateRecord(), key, digest, command_id)


def _decide(
    decoded: Decoded[Message], record: AggregateRecord, key: bytes, digest: str, command_id: str
) -> Result:
    command = decoded.envelope
    aggregate = HANDLERS.get(command.type)
    # Loaded once (and only when it is this aggregate's): decide reads it, evolve folds
    # the new events into it.
    state = None
    if aggregate is not None and record.aggregate_type == aggregate.name:
        state = aggregate.load(record.state)
    decision = _decision(decoded, record, aggregate, state)
    # The envelopes as JSON: the values to produce, and (as text) the stored decision's.
    event_ids = [event_id_for(command.command_id, i) for i in range(len(decision.events))]
    values = [
        _encoded(command, event, event_id, record.sequence + i + 1)
        for i, (event, event_id) in enumerate(zip(decision.events, event_ids, strict=True))
    ]
    outcome = CommandOutcomeRecorded(
        command_type=command.type,
        outcome=decision.outcome,
        target_aggregate_type=aggregate.name if aggregate else command.aggregate_type,
        target_aggregate_id=command.aggregate_id,
        fingerprint=digest,
        reason=decision.reason,
        status=decision.status,
        event_ids=event_ids,
    )
    outcome_id = event_id_for(command.command_id, len(event_ids))
    values.append(_encoded(command, outcome, outcome_id, 1, command.command_id))
    envelopes = [value.decode() for value in values]
    changes: dict[str, Any] = {}
    if aggregate is not None and decision.events:
        changes = _evolved(command_id, command, record, aggregate, state, decision.events)
    stored = StoredDecision(fingerprint=digest, outcome=decision.outcome, envelopes=envelopes)
    changes["decisions"] = record.remember(command_id, stored, creator=changes.get("creator"))
    new = record.model_copy(update=changes)  # one copy for the state and the decision
    types = (*(event.TYPE for event in decision.events), CommandOutcomeRecorded.TYPE)
    return Result("decided", key, tuple(values), new, decision.outcome, types)


def _decision(
    decoded: Decoded[Message],
    record: AggregateRecord,
    aggregate: Aggregate[Any] | None,
    state: Any,
) -> Decision:
    command = decoded.envelope
    if aggregate is None:
        return rejected(UNPROCESSABLE, f"{command.type} is not supported by the decider yet")
    creating = command.type in CREATING
    if record.exists and record.org_id != command.org_id:
        # Another organization's aggregate is indistinguishable from a missing one.
        return rejected(NOT_FOUND, f"{aggregate.name} not found")
    if record.exists and record.aggregate_type != aggregate.name:
        if creating:
            return rejected(CONFLICT, "the id is already taken by another aggregate")
        return rejected(NOT_FOUND, f"{aggregate.name} not found")
    message = decoded.message
    if not isinstance(message, Command):
        return rejected(UNPROCESSABLE, f"{command.type} is not a command")
    return aggregate.decide(message, state, command.occurred_at)


def _evolved(
    command_id: str,
    command: Envelope,
    record: AggregateRecord,
    aggregate: Aggregate[Any],
    state: Any,
    events: tuple[Event, ...],
) -> dict[str, Any]:
    """The record's fields that the new events change."""
    for event in events:
        state = aggregate.evolve(state, event)
    assert state is not None  # evolve never returns None
    return {
        "aggregate_type": aggregate.name,
        "org_id": command.org_id,
        "sequence": record.sequence + len(events),
        "state": aggregate.dump(state),
        "creator": record.creator or command_id,
    }


def _encoded(
    command: Envelope,
    message: Message,
    id: uuid.UUID,
    sequence: int,
    aggregate_id: uuid.UUID | None = None,
) -> bytes:
    aggregate_id = aggregate_id or command.aggregate_id
    return encode_wrapped(
        message, id=id, origin=command, aggregate_id=aggregate_id, sequence=sequence
    )


def _conflict(command: Envelope, digest: str, decided: str) -> bytes:
    request_id = derived_id(command.command_id, f"conflict:{digest}")
    refusal = CommandConflictRejected(
        command_id=command.command_id,
        command_type=command.type,
        fingerprint=digest,
        decided_fingerprint=decided,
        target_aggregate_type=command.aggregate_type,
        target_aggregate_id=command.aggregate_id,
        reason="the idempotency key was already used with another request body",
    )
    return _encoded(command, refusal, event_id_for(request_id, 0), 1, request_id)
