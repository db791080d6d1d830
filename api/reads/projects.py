"""Projects: an organization's groupings of assets, clips and queue items."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from pydantic import BaseModel

from api.backends.postgres import Database
from api.reads.paging import ListQuery, Page, Where, fetch_page, uuid_key

COLUMNS = "id, name, created_at, updated_at, version"


class Project(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime
    updated_at: datetime
    version: int


class ProjectQuery(ListQuery):
    pass


def _dto(row: asyncpg.Record) -> Project:
    return Project.model_validate(dict(row))


async def list_projects(db: Database, org_id: str, query: ProjectQuery) -> Page[Project]:
    return await fetch_page(
        db,
        f"SELECT {COLUMNS} FROM projects",
        Where(org_id),
        "id",
        query,
        uuid_key,
        _dto,
        lambda project: str(project.id),
    )


async def get_project(db: Database, org_id: str, project_id: uuid.UUID) -> Project | None:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM projects WHERE org_id = $1 AND id = $2", org_id, project_id
    )
    return None if row is None else _dto(row)
