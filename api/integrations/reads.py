"""Integrations as the read model holds them (never a secret: there is none in it)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel

from api.backends.postgres import Database
from api.reads.paging import ListQuery, Page, Where, fetch_page, uuid_key

COLUMNS = (
    "id, org_id, platform, name, scopes, application_id, public_key, broadcaster_user_id, "
    "recording_project_id, recording_asset_id, status, revoked_reason, created_at, "
    "deleted_at, updated_at, version"
)
PUBLIC = [c.strip() for c in COLUMNS.split(",") if c.strip() != "org_id"]


class Integration(BaseModel):
    id: uuid.UUID
    platform: str
    name: str
    scopes: list[str]
    application_id: str | None
    public_key: str | None
    broadcaster_user_id: str | None
    recording_project_id: uuid.UUID | None
    recording_asset_id: uuid.UUID | None
    status: str  # active | revoked | deleted
    revoked_reason: str | None
    created_at: datetime
    deleted_at: datetime | None
    updated_at: datetime
    version: int


class Bound(Integration):
    """An integration with its organization: what the inbound endpoints act for."""

    org_id: str


class IntegrationQuery(ListQuery):
    platform: Literal["discord", "twitch"] | None = None
    status: Literal["active", "revoked", "deleted"] | None = None


def _dto(row: asyncpg.Record) -> Integration:
    return Integration.model_validate({k: row[k] for k in PUBLIC})


async def list_integrations(
    db: Database, org_id: str, query: IntegrationQuery
) -> Page[Integration]:
    where = Where(org_id)
    where.maybe("platform = {}", query.platform)
    where.maybe("status = {}", query.status)
    return await fetch_page(
        db,
        f"SELECT {COLUMNS} FROM integrations",
        where,
        "id",
        query,
        uuid_key,
        _dto,
        lambda found: str(found.id),
    )


async def get_integration(
    db: Database, org_id: str, integration_id: uuid.UUID
) -> Integration | None:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM integrations WHERE org_id = $1 AND id = $2",
        org_id,
        integration_id,
    )
    return None if row is None else _dto(row)


async def bound_integration(db: Database, integration_id: uuid.UUID) -> Bound | None:
    """The integration a platform calls about, whatever its organization (the URL names
    it; the platform's signature, checked next, proves the caller)."""
    row = await db.fetchrow(f"SELECT {COLUMNS} FROM integrations WHERE id = $1", integration_id)
    return None if row is None else Bound.model_validate(dict(row))
