"""The event history of an organization (or one aggregate) from the audit index."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from projections.config import ProjectorSettings
from projections.db import connect


@dataclass(frozen=True)
class AuditEntry:
    id: uuid.UUID
    type: str
    version: int
    aggregate_type: str
    aggregate_id: uuid.UUID
    sequence: int
    occurred_at: datetime
    command_id: uuid.UUID
    correlation_id: uuid.UUID
    causation_id: uuid.UUID
    actor: dict[str, Any]
    data: dict[str, Any]
    # Where the event was read on the log (NULL for rows projected before migration 008).
    log_topic: str | None = None
    log_partition: int | None = None
    log_offset: int | None = None


async def history(
    conn: asyncpg.Connection,
    org_id: str,
    aggregate_id: uuid.UUID | None = None,
    *,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Events in the order they happened; within one aggregate, by sequence."""
    rows = await conn.fetch(
        "SELECT id, type, version, aggregate_type, aggregate_id, sequence, occurred_at,"
        " command_id, correlation_id, causation_id, actor, data, log_topic, log_partition,"
        " log_offset FROM events"
        " WHERE org_id = $1 AND ($2::uuid IS NULL OR aggregate_id = $2)"
        # Not `position` (arrival order differs after a rebuild): the time, then
        # one command's events together, its outcome (aggregate 'command') last.
        " ORDER BY occurred_at, command_id, aggregate_type = 'command', aggregate_id,"
        " sequence LIMIT $3",
        org_id,
        aggregate_id,
        limit,
    )
    return [AuditEntry(**dict(r)) for r in rows]


async def audit(
    settings: ProjectorSettings,
    org_id: str,
    aggregate_id: uuid.UUID | None = None,
    *,
    limit: int | None = None,
) -> list[AuditEntry]:
    conn = await connect(settings.dsn, settings.db_schema, purpose="audit")
    try:
        return await history(conn, org_id, aggregate_id, limit=limit)
    finally:
        await conn.close()
