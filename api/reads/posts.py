"""Posts: what was published where (the platform's post id and URL), and its latest figures."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from pydantic import BaseModel

from api.backends.postgres import Database
from api.reads.paging import ListQuery, Page, Where, fetch_page, uuid_key
from schemas.commands import Platform

COLUMNS = (
    "id, queue_item_id, attempt, platform, platform_post_id, url, published_at, version, "
    "views, likes, comments, shares, metrics_read_at, metrics_round, gone_at"
)


class Post(BaseModel):
    id: uuid.UUID
    queue_item_id: uuid.UUID
    # The attempt that published it.
    attempt: int
    platform: str
    platform_post_id: str
    url: str | None
    published_at: datetime
    version: int
    # The latest figures the publisher read back (YouTube, X), and when; None: not read
    # yet, or the platform has no such figure (Discord and webhooks have none).
    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    metrics_read_at: datetime | None = None
    # Read rounds recorded so far.
    metrics_round: int = 0
    # When the platform said the post does not exist any more (reading stopped then).
    gone_at: datetime | None = None


class PostQuery(ListQuery):
    platform: Platform | None = None
    queue_item_id: uuid.UUID | None = None


def _dto(row: asyncpg.Record) -> Post:
    return Post.model_validate(dict(row))


async def list_posts(db: Database, org_id: str, query: PostQuery) -> Page[Post]:
    where = Where(org_id)
    where.maybe("platform = {}", query.platform)
    where.maybe("queue_item_id = {}", query.queue_item_id)
    return await fetch_page(
        db,
        f"SELECT {COLUMNS} FROM posts",
        where,
        "id",
        query,
        uuid_key,
        _dto,
        lambda post: str(post.id),
    )


async def get_post(db: Database, org_id: str, post_id: uuid.UUID) -> Post | None:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM posts WHERE org_id = $1 AND id = $2", org_id, post_id
    )
    return None if row is None else _dto(row)
