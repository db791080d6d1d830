"""Registered video sources get a thumbnail too, served to their organization only.

Through the whole stack: the API registers the file, the media process probes it and
makes the still, the read model shows it, and GET /v1/assets/{id}/thumbnail serves it.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from clipper import MediaRoot
from tests.e2e.conftest import Stack, stack  # noqa: F401  (the whole-stack fixture)
from tests.media import ffprobe, make_audio, make_video

pytestmark = pytest.mark.slow


def space(running: Stack, org: str) -> Path:
    root = MediaRoot(running.settings.media_root).space(org).root
    root.mkdir(parents=True, exist_ok=True)
    return root


async def register(running: Stack, org: str, path: str, kind: str) -> dict[str, Any]:
    status, accepted = await running.post(
        "/v1/assets", {"path": path, "kind": kind}, org=org, key=f"thumb-{org}-{path}"
    )
    assert status == 202, accepted
    return await running.eventually(
        f"/v1/assets/{accepted['id']}",
        lambda s, b: s == 200 and b.get("status") in ("registered", "failed"),
        org=org,
        timeout=90,
    )


async def get_thumbnail(running: Stack, asset_id: str, org: str) -> tuple[int, str, bytes]:
    url = f"{running.base_url}/v1/assets/{asset_id}/thumbnail"
    async with running.http.get(url, headers=running.headers(org)) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.read()


async def test_a_registered_video_has_a_thumbnail_its_organization_alone_can_fetch(
    stack: Stack,  # noqa: F811
) -> None:
    org = f"org-{uuid.uuid4().hex[:8]}"
    (space(stack, org) / "in").mkdir()
    make_video(space(stack, org) / "in" / "talk.mp4", seconds=6.0)

    asset = await register(stack, org, "in/talk.mp4", "video")

    assert asset["status"] == "registered", asset
    hexid = uuid.UUID(asset["id"]).hex
    assert asset["thumbnail_path"] == f"clips/{hexid[:2]}/{hexid}.thumb.jpg"
    status, ctype, body = await get_thumbnail(stack, asset["id"], org)
    assert (status, ctype) == (200, "image/jpeg")
    assert body[:3] == b"\xff\xd8\xff", "a JPEG"
    still = space(stack, org) / asset["thumbnail_path"]
    assert still.read_bytes() == body
    picture = ffprobe(still, "-show_streams")["streams"][0]
    assert picture["width"] <= 640 and picture["width"] / picture["height"] == pytest.approx(
        asset["width"] / asset["height"], abs=0.05
    )
    other = f"org-{uuid.uuid4().hex[:8]}"
    status, _, _ = await get_thumbnail(stack, asset["id"], other)
    assert status == 404, "another organization is never told the asset exists"
    assert not (space(stack, other) / asset["thumbnail_path"]).exists()


async def test_an_audio_source_has_no_thumbnail_and_a_deleted_video_loses_its_own(
    stack: Stack,  # noqa: F811
) -> None:
    org = f"org-{uuid.uuid4().hex[:8]}"
    make_audio(space(stack, org) / "tone.m4a", seconds=3.0)
    make_video(space(stack, org) / "gone.mp4", seconds=3.0)

    audio = await register(stack, org, "tone.m4a", "audio")
    video = await register(stack, org, "gone.mp4", "video")

    assert audio["status"] == "registered" and audio["thumbnail_path"] is None
    assert (await get_thumbnail(stack, audio["id"], org))[0] == 404
    still = space(stack, org) / video["thumbnail_path"]
    assert still.is_file()
    url = f"{stack.base_url}/v1/assets/{video['id']}"
    async with stack.http.delete(url, headers=stack.headers(org, key="thumb-del")) as resp:
        assert resp.status == 202, await resp.text()
    await stack.eventually(
        f"/v1/assets/{video['id']}", lambda s, b: b.get("status") == "deleted", org=org
    )
    for _ in range(100):
        if not still.exists():
            break
        await asyncio.sleep(0.1)
    assert not still.exists(), "the media process removes the thumbnail with the asset"
