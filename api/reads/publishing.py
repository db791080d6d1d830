"""One queue item with its publishing story: every attempt and the post it made."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from pydantic import BaseModel

from api.backends.postgres import Database
from api.reads import posts, queue

ATTEMPT_COLUMNS = (
    "attempt, attempt_id, adapter, outcome, started_at, finished_at, error_class, "
    "platform_status, summary, next_attempt_at, reconcile_attempt_id, reconcile_finding, "
    "reconcile_detail, platform_post_id"
)


class Attempt(BaseModel):
    attempt: int
    # What the platform saw (webhook-id, marker).
    attempt_id: str
    adapter: str
    outcome: str  # publishing | published | failed | unconfirmed
    started_at: datetime
    finished_at: datetime | None
    error_class: str | None
    platform_status: int | None
    summary: str | None
    next_attempt_at: datetime | None
    # An earlier attempt whose outcome was unknown, reconciled first, and what was found.
    reconcile_attempt_id: str | None
    reconcile_finding: str | None
    reconcile_detail: str | None
    platform_post_id: str | None


class QueueItemDetail(queue.QueueItem):
    attempt_history: list[Attempt]
    post: posts.Post | None


def _attempt(row: asyncpg.Record) -> Attempt:
    return Attempt.model_validate(dict(row))


async def get_item_detail(db: Database, org_id: str, item_id: uuid.UUID) -> QueueItemDetail | None:
    item = await queue.get_item(db, org_id, item_id)
    if item is None:
        return None
    rows = await db.fetch(
        f"SELECT {ATTEMPT_COLUMNS} FROM publish_attempts "
        "WHERE org_id = $1 AND item_id = $2 ORDER BY attempt",
        org_id,
        item_id,
    )
    post_rows = await db.fetch(
        f"SELECT {posts.COLUMNS} FROM posts WHERE org_id = $1 AND queue_item_id = $2 "
        "ORDER BY published_at DESC LIMIT 1",
        org_id,
        item_id,
    )
    post = posts.Post.model_validate(dict(post_rows[0])) if post_rows else None
    return QueueItemDetail(
        **item.model_dump(), attempt_history=[_attempt(r) for r in rows], post=post
    )
