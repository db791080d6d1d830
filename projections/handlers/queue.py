"""queue_items: one row per queue item, guarded by the sequence of its last event."""

from __future__ import annotations

import asyncpg

from schemas.codec import payload_as
from schemas.envelope import Envelope
from schemas.events import ItemCancelled, ItemEnqueued, ItemRescheduled


async def item_enqueued(conn: asyncpg.Connection, env: Envelope) -> None:
    item = payload_as(env, ItemEnqueued)
    await conn.execute(
        "INSERT INTO queue_items (id, org_id, project_id, asset_id, platform, title, description,"
        " status, schedule_at, timezone, target, created_at, updated_at, version)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, 'scheduled', $8, $9, $10, $11, $11, $12)"
        " ON CONFLICT (id) DO NOTHING",
        env.aggregate_id,
        env.org_id,
        item.project_id,
        item.asset_id,
        item.platform,
        item.title,
        item.description,
        item.schedule_at,
        item.timezone,
        item.target,
        env.occurred_at,
        env.sequence,
    )


async def item_cancelled(conn: asyncpg.Connection, env: Envelope) -> None:
    payload_as(env, ItemCancelled)
    await conn.execute(
        "UPDATE queue_items SET status = 'cancelled', updated_at = $3, version = $4"
        " WHERE id = $1 AND org_id = $2 AND version < $4",
        env.aggregate_id,
        env.org_id,
        env.occurred_at,
        env.sequence,
    )


async def item_rescheduled(conn: asyncpg.Connection, env: Envelope) -> None:
    change = payload_as(env, ItemRescheduled)
    await conn.execute(
        "UPDATE queue_items SET schedule_at = $3, updated_at = $4, version = $5"
        " WHERE id = $1 AND org_id = $2 AND version < $5",
        env.aggregate_id,
        env.org_id,
        change.schedule_at,
        env.occurred_at,
        env.sequence,
    )
