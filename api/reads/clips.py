"""Clips: requested cuts of a source, their progress and their output asset."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel

from api.backends.postgres import Database
from api.reads.paging import ListQuery, Page, Where, fetch_page, uuid_key

ClipStatus = Literal["requested", "running", "succeeded", "failed"]

COLUMNS = (
    "id, project_id, source_asset_id, source_path, start_s, duration_s, format, mode, aspect, "
    "title, status, attempt, progress, output_asset_id, actual_start_s, start_offset_s, error, "
    "error_code, lineage, created_at, updated_at, version"
)


class Clip(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID | None
    source_asset_id: uuid.UUID | None
    source_path: str | None
    start_s: float
    duration_s: float
    format: str
    mode: str
    aspect: str
    title: str
    status: str
    attempt: int
    progress: float
    output_asset_id: uuid.UUID | None
    actual_start_s: float | None
    start_offset_s: float | None
    error: str | None
    error_code: str | None
    lineage: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    version: int


class ClipQuery(ListQuery):
    status: ClipStatus | None = None
    project_id: uuid.UUID | None = None


def _dto(row: asyncpg.Record) -> Clip:
    return Clip.model_validate(dict(row))


async def list_clips(db: Database, org_id: str, query: ClipQuery) -> Page[Clip]:
    where = Where(org_id)
    where.maybe("status = {}", query.status)
    where.maybe("project_id = {}", query.project_id)
    return await fetch_page(
        db,
        f"SELECT {COLUMNS} FROM clips",
        where,
        "id",
        query,
        uuid_key,
        _dto,
        lambda clip: str(clip.id),
    )


async def get_clip(db: Database, org_id: str, clip_id: uuid.UUID) -> Clip | None:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM clips WHERE org_id = $1 AND id = $2", org_id, clip_id
    )
    return None if row is None else _dto(row)
