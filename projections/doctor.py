"""Finds commands that never got an outcome (faust issue #316: a failed offset commit
can be recorded as done, so the decider may never see a command again)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from projections.config import ProjectorSettings
from projections.db import connect


@dataclass(frozen=True)
class StuckCommand:
    command_id: uuid.UUID
    org_id: str
    type: str
    aggregate_type: str
    aggregate_id: uuid.UUID
    requested_at: datetime
    age: timedelta


async def stuck_commands(
    conn: asyncpg.Connection, older_than: timedelta, now: datetime
) -> list[StuckCommand]:
    rows = await conn.fetch(
        "SELECT command_id, org_id, type, aggregate_type, aggregate_id, requested_at"
        " FROM commands WHERE outcome = 'pending' AND requested_at < $1"
        " ORDER BY requested_at, command_id",
        now - older_than,
    )
    return [StuckCommand(**dict(r), age=now - r["requested_at"]) for r in rows]


async def doctor(
    settings: ProjectorSettings,
    older_than: timedelta,
    *,
    now: datetime | None = None,
) -> list[StuckCommand]:
    """Commands still 'pending' ``older_than`` after they were requested.

    Only meaningful while the projector is caught up on the events topic: an
    outcome that is on the log but not yet projected also looks pending.
    """
    conn = await connect(settings.dsn, settings.db_schema, purpose="doctor")
    try:
        return await stuck_commands(conn, older_than, now or datetime.now(UTC))
    finally:
        await conn.close()
