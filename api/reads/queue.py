"""Queue items: what is scheduled, publishing, published, failed or cancelled.

Lists come in ``schedule_at`` order (then id), paged by a cursor on both.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import AwareDatetime, BaseModel

from api.backends.postgres import Database
from api.reads.paging import ListQuery, Page, Where, decode_cursor, encode_cursor
from schemas.commands import Platform

ItemStatus = Literal[
    "scheduled", "publishing", "retrying", "published", "failed", "cancelled", "unconfirmed"
]

COLUMNS = (
    "id, project_id, asset_id, platform, title, description, status, schedule_at, timezone, "
    "target, attempts, last_error, next_attempt_at, post_id, created_at, updated_at, version, "
    "connection_id, schedule_local, reason, error_class, connection_broken, due_at"
)
# Not fired although due this long ago (DESIGN §11: the scheduler fires within 2 s).
OVERDUE_SECONDS = 60
# due_at: the projector's "next attempt, else schedule_at" of a scheduled or retrying
# item, NULL for any other status (projections/migrations/004_publishing.sql).
OVERDUE_SQL = f"due_at IS NOT NULL AND due_at < now() - interval '{OVERDUE_SECONDS} seconds'"


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
    connection_id: uuid.UUID | None
    # The client's schedule_at text as sent (its local time and offset).
    schedule_local: str | None
    # Why it is where it is (a failure, an unconfirmed outcome, a quota reschedule).
    reason: str | None
    error_class: str | None
    # The connection needs fixing or reconnecting before a retry can succeed.
    connection_broken: bool
    # When the scheduler may start it (scheduled or retrying only).
    due_at: datetime | None


class QueueQuery(ListQuery):
    status: ItemStatus | None = None
    platform: Platform | None = None
    project_id: uuid.UUID | None = None
    connection_id: uuid.UUID | None = None
    # schedule_at in [schedule_from, schedule_to)
    schedule_from: AwareDatetime | None = None
    schedule_to: AwareDatetime | None = None
    # Only items due more than 60 s ago that have not fired (scheduled or retrying).
    overdue: bool = False


def _dto(row: asyncpg.Record) -> QueueItem:
    return QueueItem.model_validate(dict(row))


def _schedule_key(value: Any) -> tuple[datetime, uuid.UUID]:
    """A cursor's key: ``<schedule_at ISO>|<id>`` of the page's last item."""
    if not isinstance(value, str):
        raise ValueError("not a schedule cursor")
    at_text, _, id_text = value.partition("|")
    at = datetime.fromisoformat(at_text)
    if at.tzinfo is None:
        raise ValueError("not a schedule cursor")
    return at, uuid.UUID(id_text)


async def list_items(db: Database, org_id: str, query: QueueQuery) -> Page[QueueItem]:
    where = Where(org_id)
    where.maybe("status = {}", query.status)
    where.maybe("platform = {}", query.platform)
    where.maybe("project_id = {}", query.project_id)
    where.maybe("connection_id = {}", query.connection_id)
    where.maybe("schedule_at >= {}", query.schedule_from)
    where.maybe("schedule_at < {}", query.schedule_to)
    if query.overdue:
        where.clauses.append(OVERDUE_SQL)
    if query.cursor is not None:
        at, last = decode_cursor(query.cursor, _schedule_key)
        where.params.extend((at, last))
        n = len(where.params)
        where.clauses.append(f"(schedule_at, id) > (${n - 1}, ${n})")
    where.params.append(query.limit + 1)  # one more than asked says whether there is more
    sql = (
        f"SELECT {COLUMNS} FROM queue_items WHERE {where.sql()} "
        f"ORDER BY schedule_at, id LIMIT ${len(where.params)}"
    )
    rows: Sequence[asyncpg.Record] = await db.fetch(sql, *where.params)
    items = [_dto(r) for r in rows[: query.limit]]
    cursor = None
    if len(rows) > query.limit:
        cursor = encode_cursor(f"{items[-1].schedule_at.isoformat()}|{items[-1].id}")
    return Page(items=items, next_cursor=cursor)


async def count_overdue(db: Database) -> dict[str, int]:
    """Overdue items of every organization, by platform (the metric)."""
    rows = await db.fetch(
        f"SELECT platform, count(*) AS n FROM queue_items WHERE {OVERDUE_SQL} GROUP BY platform"
    )
    return {str(r["platform"]): int(r["n"]) for r in rows}


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
