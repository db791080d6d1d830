"""clips: one row per clip job, requested → running (attempt, progress) → succeeded | failed."""

from __future__ import annotations

import asyncpg

from projections.handlers.failed import mark_failed
from schemas.codec import payload_as
from schemas.envelope import Envelope
from schemas.events import ClipCompleted, ClipFailed, ClipProgressed, ClipRequested, ClipStarted


async def requested(conn: asyncpg.Connection, env: Envelope) -> None:
    clip = payload_as(env, ClipRequested)
    await conn.execute(
        "INSERT INTO clips (id, org_id, project_id, source_asset_id, source_path, start_s,"
        " duration_s, format, mode, aspect, title, status, created_at, updated_at, version)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'requested', $12, $12, $13)"
        " ON CONFLICT (id) DO NOTHING",
        env.aggregate_id,
        env.org_id,
        clip.project_id,
        clip.source.asset_id,
        clip.source.path,
        clip.start_s,
        clip.duration_s,
        clip.format,
        clip.mode,
        clip.aspect,
        clip.title,
        env.occurred_at,
        env.sequence,
    )


async def started(conn: asyncpg.Connection, env: Envelope) -> None:
    start = payload_as(env, ClipStarted)
    # A new attempt (the worker restarted the job) starts its progress from zero.
    await conn.execute(
        "UPDATE clips SET status = 'running', attempt = $3, progress = 0, updated_at = $4,"
        " version = $5 WHERE id = $1 AND org_id = $2 AND version < $5",
        env.aggregate_id,
        env.org_id,
        start.attempt,
        env.occurred_at,
        env.sequence,
    )


async def progressed(conn: asyncpg.Connection, env: Envelope) -> None:
    step = payload_as(env, ClipProgressed)
    await conn.execute(
        "UPDATE clips SET progress = $3, updated_at = $4, version = $5"
        " WHERE id = $1 AND org_id = $2 AND version < $5",
        env.aggregate_id,
        env.org_id,
        step.progress,
        env.occurred_at,
        env.sequence,
    )


async def completed(conn: asyncpg.Connection, env: Envelope) -> None:
    done = payload_as(env, ClipCompleted)
    await conn.execute(
        "UPDATE clips SET status = 'succeeded', progress = 1, output_asset_id = $3,"
        " actual_start_s = $4, start_offset_s = $5, lineage = $6, updated_at = $7, version = $8"
        " WHERE id = $1 AND org_id = $2 AND version < $8",
        env.aggregate_id,
        env.org_id,
        done.output_asset_id,
        done.actual_start_s,
        done.start_offset_s,
        done.lineage.model_dump(mode="json"),
        env.occurred_at,
        env.sequence,
    )


async def failed(conn: asyncpg.Connection, env: Envelope) -> None:
    failure = payload_as(env, ClipFailed)
    await mark_failed(conn, "clips", env, failure.reason, failure.code)
