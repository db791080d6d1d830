"""Queue items: what is scheduled, publishing, published, failed or cancelled."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel

from api.backends.postgres import Database
from api.reads.paging import ListQuery, Page, Where, fetch_page, uuid_key
from schemas.commands import Platform

ItemStatus = Literal["scheduled", "publishing", "retrying", "published", "failed", "cancelled"]

COLUMNS = (
    "id, project_id, asset_id, platform, title, description, status, schedule_at, timezone, "
    "target, attempts, last_error, next_attempt_at, post_id, created_at, updated_at, version"
)


class QueueItem(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID | None
    asset_id: uuid.UUID | None
    platform: str
    title: str
    description: str
    status: str
    schedule_at: datetime
    timezone: str
    target: dict[str, Any]
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    post_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    version: int


class QueueQuery(ListQuery):
    status: ItemStatus | None = None
    platform: Platform | None = None
    project_id: uuid.UUID | None = None


def _dto(row: asyncpg.Record) -> QueueItem:
    return QueueItem.model_validate(dict(row))


async def list_items(db: Database, org_id: str, query: QueueQuery) -> Page[QueueItem]:
    where = Where(org_id)
    where.maybe("status = {}", query.status)
    where.maybe("platform = {}", query.platform)
    where.maybe("project_id = {}", query.project_id)
    return await fetch_page(
        db,
        f"SELECT {COLUMNS} FROM queue_items",
        where,
        "id",
        query,
        uuid_key,
        _dto,
        lambda item: str(item.id),
    )


async def get_item(db: Database, org_id: str, item_id: uuid.UUID) -> QueueItem | None:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM queue_items WHERE org_id = $1 AND id = $2", org_id, item_id
    )
    return None if row is None else _dto(row)


async def status_of(db: Database, org_id: str, item_id: uuid.UUID) -> str | None:
    row = await db.fetchrow(
        "SELECT status FROM queue_items WHERE org_id = $1 AND id = $2", org_id, item_id
    )
    return None if row is None else str(row["status"])
