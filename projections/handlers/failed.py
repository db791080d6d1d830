"""The one way a media row (an asset's probe, a clip job) ends in 'failed'."""

from __future__ import annotations

from typing import Literal

import asyncpg

from schemas.envelope import Envelope


async def mark_failed(
    conn: asyncpg.Connection,
    table: Literal["assets", "clips"],
    env: Envelope,
    reason: str,
    code: str,
) -> None:
    """Sets status, error and error_code, unless the row already holds a later event."""
    # ``table`` is one of two literals, never input: safe to format into the SQL.
    await conn.execute(
        f"UPDATE {table} SET status = 'failed', error = $3, error_code = $4, updated_at = $5,"
        " version = $6 WHERE id = $1 AND org_id = $2 AND version < $6",
        env.aggregate_id,
        env.org_id,
        reason,
        code,
        env.occurred_at,
        env.sequence,
    )
