"""Posts: what was published where (the platform's post id and URL)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from pydantic import BaseModel

from api.backends.postgres import Database
from api.reads.paging import ListQuery, Page, Where, fetch_page, uuid_key
from schemas.commands import Platform

COLUMNS = "id, queue_item_id, attempt, platform, platform_post_id, url, published_at, version"


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
