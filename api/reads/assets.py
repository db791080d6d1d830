"""Assets: media files under the media root, with what probing found out about them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel

from api.backends.postgres import Database
from api.reads.paging import ListQuery, Page, Where, fetch_page, uuid_key
from schemas.commands import AssetKind

AssetStatus = Literal["probing", "registered", "failed", "deleted"]

COLUMNS = (
    "id, project_id, path, kind, title, container, duration_s, width, height, size_bytes, "
    "sha256, probe, lineage, status, error, error_code, thumbnail_path, source_clip_id, "
    "created_at, updated_at, version"
)


class Asset(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID | None
    path: str
    kind: str
    title: str
    container: str | None
    duration_s: float | None
    width: int | None
    height: int | None
    size_bytes: int | None
    sha256: str | None
    probe: dict[str, Any]
    lineage: dict[str, Any] | None
    status: str
    error: str | None
    error_code: str | None
    thumbnail_path: str | None
    source_clip_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    version: int


class AssetQuery(ListQuery):
    kind: AssetKind | None = None
    status: AssetStatus | None = None
    project_id: uuid.UUID | None = None


def _dto(row: asyncpg.Record) -> Asset:
    return Asset.model_validate(dict(row))


async def list_assets(db: Database, org_id: str, query: AssetQuery) -> Page[Asset]:
    where = Where(org_id)
    where.maybe("kind = {}", query.kind)
    where.maybe("status = {}", query.status)
    where.maybe("project_id = {}", query.project_id)
    return await fetch_page(
        db,
        f"SELECT {COLUMNS} FROM assets",
        where,
        "id",
        query,
        uuid_key,
        _dto,
        lambda asset: str(asset.id),
    )


async def get_asset(db: Database, org_id: str, asset_id: uuid.UUID) -> Asset | None:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM assets WHERE org_id = $1 AND id = $2", org_id, asset_id
    )
    return None if row is None else _dto(row)
