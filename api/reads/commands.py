"""Command outcomes: pending until the decider records applied, duplicate or rejected."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from api.backends.postgres import Database

CommandOutcome = Literal["pending", "applied", "duplicate", "rejected"]


class CommandStatus(BaseModel):
    command_id: uuid.UUID
    type: str
    aggregate_type: str
    aggregate_id: uuid.UUID
    outcome: CommandOutcome
    reason: str | None
    status: int | None
    event_ids: list[uuid.UUID]
    requested_at: datetime
    decided_at: datetime | None


async def get_command(db: Database, org_id: str, command_id: uuid.UUID) -> CommandStatus | None:
    row = await db.fetchrow(
        "SELECT command_id, type, aggregate_type, aggregate_id, outcome, reason, status, "
        "event_ids, requested_at, decided_at FROM commands WHERE org_id = $1 AND command_id = $2",
        org_id,
        command_id,
    )
    return None if row is None else CommandStatus.model_validate(dict(row))


async def creation_known(
    db: Database, org_id: str, aggregate_id: uuid.UUID, command_type: str
) -> bool:
    """Whether a creating command for ``aggregate_id`` is on the log and not rejected:
    the aggregate exists, or soon will, though its row may not be projected yet."""
    row = await db.fetchrow(
        "SELECT 1 FROM commands WHERE org_id = $1 AND aggregate_id = $2 AND type = $3 "
        "AND outcome IN ('pending', 'applied') LIMIT 1",
        org_id,
        aggregate_id,
        command_type,
    )
    return row is not None
