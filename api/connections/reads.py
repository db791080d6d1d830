"""Connections as the read model holds them: never a credential, sealed or not."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel

from api.backends.postgres import Database
from api.reads.paging import ListQuery, Page, Where, fetch_page, uuid_key
from schemas.commands import Platform

COLUMNS = "id, platform, name, status, created_at, deleted_at, updated_at, version"


class Connection(BaseModel):
    id: uuid.UUID
    platform: str
    name: str
    status: str  # active | deleted
    created_at: datetime
    deleted_at: datetime | None
    updated_at: datetime
    version: int


class ConnectionQuery(ListQuery):
    platform: Platform | None = None
    status: Literal["active", "deleted"] | None = None


def _dto(row: asyncpg.Record) -> Connection:
    return Connection.model_validate(dict(row))


async def list_connections(db: Database, org_id: str, query: ConnectionQuery) -> Page[Connection]:
    where = Where(org_id)
    where.maybe("platform = {}", query.platform)
    where.maybe("status = {}", query.status)
    return await fetch_page(
        db,
        f"SELECT {COLUMNS} FROM connections",
        where,
        "id",
        query,
        uuid_key,
        _dto,
        lambda conn: str(conn.id),
    )


async def get_connection(db: Database, org_id: str, connection_id: uuid.UUID) -> Connection | None:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM connections WHERE org_id = $1 AND id = $2", org_id, connection_id
    )
    return None if row is None else _dto(row)
