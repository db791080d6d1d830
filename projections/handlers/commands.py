"""commands: a 'pending' row per command on the commands topic, then its one outcome.

The two topics are read independently, so either row source may come first (a
rebuild reads the whole events topic in another interleaving with the commands
topic than the live projector did). Both folds are written so that the final row
is the same in any order: the outcome fills in a decision only while the row is
pending, and requested_at is the earliest of the occurred_at of the command's
records (a retried request carries a later one) and of its outcome. The outcome
takes part so that a row it creates is complete at once, whatever is read first;
it only ever wins over the command's own time when the deciding host's clock is
behind the API's, and then "requested no later than decided" still holds.
"""

from __future__ import annotations

from projections.tables import COMMANDS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.events import CommandOutcomeRecorded
from schemas.ids import fingerprint


def command_requested(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    env = decoded.envelope
    if row is None:
        return new_row(
            COMMANDS,
            command_id=env.command_id,
            org_id=env.org_id,
            type=env.type,
            aggregate_type=env.aggregate_type,
            aggregate_id=env.aggregate_id,
            fingerprint=fingerprint(env.type, env.data),
            outcome="pending",
            event_ids=[],
            requested_at=env.occurred_at,
        )
    if row["requested_at"] > env.occurred_at:
        return {**row, "requested_at": env.occurred_at}
    return row


def outcome_recorded(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    env, outcome = decoded.envelope, decoded.as_(CommandOutcomeRecorded)
    decision = {
        "outcome": outcome.outcome,
        "reason": outcome.reason,
        "status": outcome.status,
        "event_ids": list(outcome.event_ids),
        "decided_at": env.occurred_at,
    }
    if row is None:
        # An outcome whose command record was not read yet (a rebuild that reaches
        # the outcome first) or never will be (a command lost to the DLQ).
        return new_row(
            COMMANDS,
            command_id=env.command_id,
            org_id=env.org_id,
            type=outcome.command_type,
            aggregate_type=outcome.target_aggregate_type,
            aggregate_id=outcome.target_aggregate_id,
            fingerprint=outcome.fingerprint,
            requested_at=env.occurred_at,
            **decision,
        )
    if row["outcome"] != "pending":
        return row  # decided once: a later outcome of the same command changes nothing
    return {**row, **decision, "requested_at": min(row["requested_at"], env.occurred_at)}
