"""commands: a 'pending' row per command on the commands topic, then its one outcome.

The two topics are read independently, so either row source may come first (a
rebuild reads the whole events topic in another interleaving with the commands
topic than the live projector did). Both statements are written so that the final
row is the same in any order: the outcome fills in a decision only while the row
is pending, and requested_at is the earliest of the occurred_at of the command's
records (a retried request carries a later one) and of its outcome. The outcome
takes part so that a row it creates is complete at once, whatever is read first;
it only ever wins over the command's own time when the deciding host's clock is
behind the API's, and then "requested no later than decided" still holds.
"""

from __future__ import annotations

import asyncpg

from schemas.codec import payload_as
from schemas.envelope import Envelope
from schemas.events import CommandOutcomeRecorded
from schemas.ids import fingerprint


async def command_requested(conn: asyncpg.Connection, env: Envelope) -> None:
    await conn.execute(
        "INSERT INTO commands AS c (command_id, org_id, type, aggregate_type, aggregate_id,"
        " fingerprint, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (command_id) DO UPDATE SET requested_at = EXCLUDED.requested_at"
        " WHERE c.requested_at > EXCLUDED.requested_at",
        env.command_id,
        env.org_id,
        env.type,
        env.aggregate_type,
        env.aggregate_id,
        fingerprint(env.type, env.data),
        env.occurred_at,
    )


async def outcome_recorded(conn: asyncpg.Connection, env: Envelope) -> None:
    outcome = payload_as(env, CommandOutcomeRecorded)
    # The insert covers an outcome whose command record was not read yet (a rebuild
    # that reaches the outcome first) or never will be (a command lost to the DLQ).
    await conn.execute(
        "INSERT INTO commands AS c (command_id, org_id, type, aggregate_type, aggregate_id,"
        " fingerprint, outcome, reason, status, event_ids, requested_at, decided_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)"
        " ON CONFLICT (command_id) DO UPDATE SET outcome = EXCLUDED.outcome,"
        " reason = EXCLUDED.reason, status = EXCLUDED.status, event_ids = EXCLUDED.event_ids,"
        " decided_at = EXCLUDED.decided_at,"
        " requested_at = LEAST(c.requested_at, EXCLUDED.requested_at)"
        " WHERE c.outcome = 'pending'",
        env.command_id,
        env.org_id,
        outcome.command_type,
        outcome.target_aggregate_type,
        outcome.target_aggregate_id,
        outcome.fingerprint,
        outcome.outcome,
        outcome.reason,
        outcome.status,
        outcome.event_ids,
        env.occurred_at,
    )
