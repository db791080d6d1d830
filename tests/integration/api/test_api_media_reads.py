"""GET /v1/clips and /v1/assets: state, progress, results, media info and lineage."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

Headers = Callable[..., dict[str, str]]

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
LINEAGE = {
    "source_asset_id": None,
    "source_path": "in/talk.mp4",
    "source_sha256": "cd" * 32,
    "start_s": 10.0,
    "duration_s": 20.0,
    "mode": "fast",
    "aspect": "source",
    "format": "mp4",
    "ffmpeg_version": "7.1",
}


async def get_json(client: TestClient[Any, Any], url: str, headers: dict[str, str]) -> Any:
    resp = await client.get(url, headers=headers)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def add_clip(db: asyncpg.Connection, status: str, **columns: Any) -> uuid.UUID:
    clip_id = uuid.uuid4()
    names = ", ".join(columns)
    marks = ", ".join(f"${i}" for i in range(4, 4 + len(columns)))
    await db.execute(
        "INSERT INTO clips (id, org_id, source_path, start_s, duration_s, format, mode, aspect, "
        f"status, created_at, updated_at, version{', ' if columns else ''}{names}) "
        f"VALUES ($1, 'org-a', 'in/talk.mp4', 10, 20, 'mp4', 'fast', 'source', $2, $3, $3, 3"
        f"{', ' if columns else ''}{marks})",
        clip_id,
        status,
        NOW,
        *columns.values(),
    )
    return clip_id


async def test_a_clip_shows_its_state_progress_result_and_lineage(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    output = uuid.uuid4()
    done = await add_clip(
        db,
        "succeeded",
        attempt=1,
        progress=1.0,
        output_asset_id=output,
        actual_start_s=9.6,
        start_offset_s=-0.4,
        lineage=json.dumps(LINEAGE),
    )
    running = await add_clip(db, "running", attempt=2, progress=0.25)
    failed = await add_clip(db, "failed", error="the source has no video", error_code="bad")
    shown = await get_json(client, f"/v1/clips/{done}", bearer())
    assert shown["status"] == "succeeded"
    assert shown["output_asset_id"] == str(output)
    assert (shown["actual_start_s"], shown["start_offset_s"]) == (9.6, -0.4)
    assert shown["lineage"] == LINEAGE
    progress = await get_json(client, f"/v1/clips/{running}", bearer())
    assert (progress["status"], progress["attempt"], progress["progress"]) == ("running", 2, 0.25)
    error = await get_json(client, f"/v1/clips/{failed}", bearer())
    assert (error["error"], error["error_code"]) == ("the source has no video", "bad")
    only_failed = await get_json(client, "/v1/clips?status=failed", bearer())
    assert [c["id"] for c in only_failed["items"]] == [str(failed)]
    bad = await client.get("/v1/clips?status=done", headers=bearer())
    assert bad.status == 422


async def test_an_asset_shows_its_status_media_info_and_lineage(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    asset_id, clip_id = uuid.uuid4(), uuid.uuid4()
    await db.execute(
        "INSERT INTO assets (id, org_id, path, kind, container, duration_s, width, height, "
        "size_bytes, sha256, lineage, status, thumbnail_path, source_clip_id, created_at, "
        "updated_at, version) VALUES ($1, 'org-a', 'clips/ab/cd.mp4', 'video', "
        "'mov,mp4,m4a,3gp,3g2,mj2', 20.0, 1080, 1920, 123456, $2, $3, 'registered', "
        "'clips/ab/cd.jpg', $4, $5, $5, 1)",
        asset_id,
        "ef" * 32,
        json.dumps(LINEAGE),
        clip_id,
        NOW,
    )
    await db.execute(
        "INSERT INTO assets (id, org_id, path, kind, status, created_at, updated_at, version) "
        "VALUES ($1, 'org-a', 'in/new.mp4', 'video', 'probing', $2, $2, 1)",
        uuid.uuid4(),
        NOW,
    )
    shown = await get_json(client, f"/v1/assets/{asset_id}", bearer())
    assert shown["status"] == "registered"
    media = {k: shown[k] for k in ("container", "duration_s", "width", "height", "size_bytes")}
    assert media == {
        "container": "mov,mp4,m4a,3gp,3g2,mj2",
        "duration_s": 20.0,
        "width": 1080,
        "height": 1920,
        "size_bytes": 123456,
    }
    assert shown["sha256"] == "ef" * 32
    assert shown["lineage"] == LINEAGE
    assert (shown["thumbnail_path"], shown["source_clip_id"]) == ("clips/ab/cd.jpg", str(clip_id))
    probing = await get_json(client, "/v1/assets?status=probing", bearer())
    assert [a["path"] for a in probing["items"]] == ["in/new.mp4"]
    assert (await client.get("/v1/assets?status=ready", headers=bearer())).status == 422
