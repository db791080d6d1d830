"""assets: one row per asset, 'probing' until its probe registers it or fails."""

from __future__ import annotations

import asyncpg

from projections.handlers.failed import mark_failed
from schemas.codec import payload_as
from schemas.envelope import Envelope
from schemas.events import AssetRegistered, AssetRegistrationFailed, AssetRegistrationRequested


async def registration_requested(conn: asyncpg.Connection, env: Envelope) -> None:
    asset = payload_as(env, AssetRegistrationRequested)
    await conn.execute(
        "INSERT INTO assets (id, org_id, project_id, path, kind, title, status,"
        " created_at, updated_at, version)"
        " VALUES ($1, $2, $3, $4, $5, $6, 'probing', $7, $7, $8)"
        " ON CONFLICT (id) DO NOTHING",
        env.aggregate_id,
        env.org_id,
        asset.project_id,
        asset.path,
        asset.kind,
        asset.title,
        env.occurred_at,
        env.sequence,
    )


# An upsert: a client's file was inserted as 'probing' by its request, while a clip's
# output is registered in one step (sequence 1, no request before it). created_at
# stays the request's time when there was one.
_REGISTERED = """
INSERT INTO assets AS a (id, org_id, project_id, path, kind, title, container, duration_s,
                         width, height, size_bytes, sha256, probe, lineage, thumbnail_path,
                         source_clip_id, status, created_at, updated_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
        'registered', $17, $17, $18)
ON CONFLICT (id) DO UPDATE SET
    project_id = EXCLUDED.project_id, path = EXCLUDED.path, kind = EXCLUDED.kind,
    title = EXCLUDED.title, container = EXCLUDED.container, duration_s = EXCLUDED.duration_s,
    width = EXCLUDED.width, height = EXCLUDED.height, size_bytes = EXCLUDED.size_bytes,
    sha256 = EXCLUDED.sha256, probe = EXCLUDED.probe, lineage = EXCLUDED.lineage,
    thumbnail_path = EXCLUDED.thumbnail_path, source_clip_id = EXCLUDED.source_clip_id,
    status = 'registered', updated_at = EXCLUDED.updated_at, version = EXCLUDED.version
WHERE a.org_id = EXCLUDED.org_id AND a.version < EXCLUDED.version
"""


async def registered(conn: asyncpg.Connection, env: Envelope) -> None:
    asset = payload_as(env, AssetRegistered)
    media = asset.media
    await conn.execute(
        _REGISTERED,
        env.aggregate_id,
        env.org_id,
        asset.project_id,
        asset.path,
        asset.kind,
        asset.title,
        media.container,
        media.duration_s,
        media.width,
        media.height,
        media.size_bytes,
        media.sha256,
        # The whole probe, streams included, as the event carried it.
        media.model_dump(mode="json"),
        None if asset.lineage is None else asset.lineage.model_dump(mode="json"),
        asset.thumbnail_path,
        asset.source_clip_id,
        env.occurred_at,
        env.sequence,
    )


async def registration_failed(conn: asyncpg.Connection, env: Envelope) -> None:
    failure = payload_as(env, AssetRegistrationFailed)
    await mark_failed(conn, "assets", env, failure.reason, failure.code)
