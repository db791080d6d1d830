"""One command in, the envelopes to produce and the record to store out. Pure, no I/O.

The faust agent (streams/agent.py) is a shell around ``handle``: it produces
``Result.values`` keyed by ``Result.key``, waits for the acks, then stores
``Result.record``. Everything here is deterministic in (command, record), which is
what makes re-processing after a crash safe (docs/architecture.md, "Decider").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from schemas.base import Command, Event, Message
from schemas.codec import encode, payload, wrap
from schemas.envelope import Envelope
from schemas.events import CommandConflictRejected, CommandOutcomeRecorded, Outcome
from schemas.ids import derived_id, event_id_for, fingerprint
from streams.domain.common import CONFLICT, NOT_FOUND, UNPROCESSABLE, Decision, rejected
from streams.domain.registry import CREATING, HANDLERS, Aggregate
from streams.record import AggregateRecord, StoredDecision

Kind = Literal["decided", "redelivered", "conflict"]


@dataclass(frozen=True)
class Result:
    kind: Kind
    key: bytes  # the target aggregate id: one aggregate's messages stay in one partition
    values: tuple[bytes, ...]
    record: AggregateRecord | None  # None: leave the stored record as it is
    outcome: Outcome | None = None


def handle(command: Envelope, record: AggregateRecord | None) -> Result:
    key = str(command.aggregate_id).encode()
    digest = fingerprint(command.type, command.data)
    command_id = str(command.command_id)
    stored = record.decisions.get(command_id) if record is not None else None
    if stored is not None:
        if stored.fingerprint == digest:
            # Same command again (client retry or redelivery): the stored answer, unchanged.
            values = tuple(e.encode() for e in stored.envelopes or ())
            return Result("redelivered", key, values, None, stored.outcome)
        refusal = encode(_conflict(command, digest, stored.fingerprint))
        return Result("conflict", key, (refusal,), None)
    return _decide(command, record or AggregateRecord(), key, digest)


def _decide(command: Envelope, record: AggregateRecord, key: bytes, digest: str) -> Result:
    aggregate = HANDLERS.get(command.type)
    decision = _decision(command, record, aggregate)
    events = [
        _wrap(command, event, event_id_for(command.command_id, i), record.sequence + i + 1)
        for i, event in enumerate(decision.events)
    ]
    outcome = CommandOutcomeRecorded(
        command_type=command.type,
        outcome=decision.outcome,
        target_aggregate_type=aggregate.name if aggregate else command.aggregate_type,
        target_aggregate_id=command.aggregate_id,
        fingerprint=digest,
        reason=decision.reason,
        status=decision.status,
        event_ids=[e.id for e in events],
    )
    outcome_id = event_id_for(command.command_id, len(events))
    envelopes = [e.model_dump_json() for e in events]
    envelopes.append(_wrap(command, outcome, outcome_id, 1, command.command_id).model_dump_json())
    new = record
    if aggregate is not None and decision.events:
        new = _evolved(command, record, aggregate, decision.events)
    stored = StoredDecision(fingerprint=digest, outcome=decision.outcome, envelopes=envelopes)
    new = new.model_copy(update={"decisions": new.remember(str(command.command_id), stored)})
    values = tuple(e.encode() for e in envelopes)
    return Result("decided", key, values, new, decision.outcome)


def _decision(
    command: Envelope, record: AggregateRecord, aggregate: Aggregate[Any] | None
) -> Decision:
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
    message = payload(command)
    if not isinstance(message, Command):
        return rejected(UNPROCESSABLE, f"{command.type} is not a command")
    return aggregate.decide(message, aggregate.load(record.state), command.occurred_at)


def _evolved(
    command: Envelope,
    record: AggregateRecord,
    aggregate: Aggregate[Any],
    events: tuple[Event, ...],
) -> AggregateRecord:
    state = aggregate.load(record.state)
    for event in events:
        state = aggregate.evolve(state, event)
    assert state is not None  # evolve never returns None
    return record.model_copy(
        update={
            "aggregate_type": aggregate.name,
            "org_id": command.org_id,
            "sequence": record.sequence + len(events),
            "state": aggregate.dump(state),
            "creator": record.creator or str(command.command_id),
        }
    )


def _wrap(
    command: Envelope,
    message: Message,
    id: uuid.UUID,
    sequence: int,
    aggregate_id: uuid.UUID | None = None,
) -> Envelope:
    return wrap(
        message,
        id=id,
        org_id=command.org_id,
        aggregate_id=aggregate_id or command.aggregate_id,
        sequence=sequence,
        occurred_at=command.occurred_at,
        command_id=command.command_id,
        correlation_id=command.correlation_id,
        causation_id=command.id,
        actor=command.actor,
    )


def _conflict(command: Envelope, digest: str, decided: str) -> Envelope:
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
    return _wrap(command, refusal, event_id_for(request_id, 0), 1, request_id)
