"""The audit trail: every event of an organization, in the order the read model got them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import AwareDatetime, BaseModel, Field, field_validator

from api.backends.postgres import Database
from api.reads.paging import ListQuery, Page, Where, fetch_page
from api.storable import in_utc_range

COLUMNS = (
    "id, type, version, aggregate_type, aggregate_id, sequence, occurred_at, command_id, "
    "correlation_id, causation_id, actor, data, position"
)


class AuditEvent(BaseModel):
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
    position: int


class AuditQuery(ListQuery):
    aggregate_id: uuid.UUID | None = None
    type: str | None = Field(default=None, max_length=200)
    since: AwareDatetime | None = None

    @field_validator("since")
    @classmethod
    def _in_range(cls, value: datetime | None) -> datetime | None:
        if value is not None and not in_utc_range(value):
            raise ValueError("the date is out of range once converted to UTC")
        return value


def _dto(row: asyncpg.Record) -> AuditEvent:
    return AuditEvent.model_validate(dict(row))


def _position(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("not a position")
    return value


async def list_events(db: Database, org_id: str, query: AuditQuery) -> Page[AuditEvent]:
    where = Where(org_id)
    where.maybe("aggregate_id = {}", query.aggregate_id)
    where.maybe("type = {}", query.type)
    where.maybe("occurred_at >= {}", query.since)
    return await fetch_page(
        db,
        f"SELECT {COLUMNS} FROM events",
        where,
        "position",
        query,
        _position,
        _dto,
        lambda event: event.position,
    )
