"""projects: one row per project."""

from __future__ import annotations

import asyncpg

from schemas.codec import payload_as
from schemas.envelope import Envelope
from schemas.events import ProjectCreated


async def project_created(conn: asyncpg.Connection, env: Envelope) -> None:
    project = payload_as(env, ProjectCreated)
    await conn.execute(
        "INSERT INTO projects (id, org_id, name, created_at, updated_at, version)"
        " VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (id) DO NOTHING",
        env.aggregate_id,
        env.org_id,
        project.name,
        env.occurred_at,
        env.sequence,
    )
