"""The audit index: every event once, keyed by its id, and the organizations it names."""

from __future__ import annotations

import asyncpg

from schemas.envelope import Envelope

# One round trip for both rows. first_seen_at only ever moves earlier, so the result
# does not depend on the order partitions are read in (a rebuild reads them in
# another interleaving than the live projector did).
_RECORD = """
WITH indexed AS (
    INSERT INTO events (id, org_id, type, version, aggregate_type, aggregate_id, sequence,
                        occurred_at, command_id, correlation_id, causation_id, actor, data)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
    ON CONFLICT (id) DO NOTHING
)
INSERT INTO organizations AS o (org_id, first_seen_at) VALUES ($2, $8)
ON CONFLICT (org_id) DO UPDATE SET first_seen_at = EXCLUDED.first_seen_at
WHERE o.first_seen_at > EXCLUDED.first_seen_at
"""


async def record_event(conn: asyncpg.Connection, env: Envelope) -> None:
    await conn.execute(
        _RECORD,
        env.id,
        env.org_id,
        env.type,
        env.version,
        env.aggregate_type,
        env.aggregate_id,
        env.sequence,
        env.occurred_at,
        env.command_id,
        env.correlation_id,
        env.causation_id,
        env.actor.model_dump(mode="json"),
        env.data,
    )
