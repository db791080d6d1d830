"""Clipping end to end, as a bot sees it: register a video, ask for a clip, fetch it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from clipper import MediaRoot
from tests.e2e.conftest import Stack
from tests.media import ffprobe, make_video


def space(stack: Stack, org: str = "org-a") -> Path:
    """The organization's media space, where its paths point (docs/clipping.md)."""
    root = MediaRoot(stack.settings.media_root).space(org).root
    root.mkdir(parents=True, exist_ok=True)
    return root


def status_is(*wanted: str) -> Any:
    def ready(status: int, body: dict[str, Any]) -> bool:
        return status == 200 and body.get("status") in wanted

    return ready


async def register_video(stack: Stack, name: str, seconds: float, key: str) -> dict[str, Any]:
    make_video(space(stack) / name, seconds=seconds)
    status, accepted = await stack.post(
        "/v1/assets", {"path": name, "kind": "video", "title": name}, key=key
    )
    assert status == 202, accepted
    return await stack.eventually(
        f"/v1/assets/{accepted['id']}", status_is("registered", "failed"), timeout=60
    )


async def test_a_requested_clip_comes_back_as_a_verified_asset_served_with_ranges(
    stack: Stack,
) -> None:
    source = await register_video(stack, "talk.mp4", 12.0, "e2e-asset-talk")
    assert source["status"] == "registered"
    assert abs(source["duration_s"] - 12.0) < 0.2

    status, accepted = await stack.post(
        "/v1/clips",
        {"source": {"asset_id": source["id"]}, "start": 3.0, "duration": 4.0,
         "mode": "accurate", "aspect": "9:16", "format": "mp4", "title": "Best bit"},
        key="e2e-clip-best",
    )  # fmt: skip
    assert status == 202, accepted
    clip = await stack.eventually(
        f"/v1/clips/{accepted['id']}", status_is("succeeded", "failed"), timeout=120
    )
    assert clip["status"] == "succeeded", clip
    output = await stack.eventually(
        f"/v1/assets/{clip['output_asset_id']}", status_is("registered"), timeout=30
    )
    assert abs(output["duration_s"] - 4.0) < 0.1
    assert output["width"] / output["height"] == 9 / 16
    assert output["lineage"]["source_asset_id"] == source["id"]

    path = space(stack) / output["path"]
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == output["sha256"]
    assert ffprobe(path, "-show_format")["format"]["format_name"].startswith("mov")

    content = f"{stack.base_url}/v1/assets/{output['id']}/content"
    headers = {**stack.headers(), "Range": "bytes=0-99"}
    async with stack.http.get(content, headers=headers) as resp:
        assert resp.status == 206
        assert await resp.read() == data[:100]
        assert resp.headers["Content-Range"] == f"bytes 0-99/{len(data)}"


async def test_the_same_clip_request_twice_makes_one_clip(stack: Stack) -> None:
    source = await register_video(stack, "twice.mp4", 8.0, "e2e-asset-twice")
    body = {"source": {"asset_id": source["id"]}, "start": 1.0, "duration": 2.0}
    _, first = await stack.post("/v1/clips", body, key="e2e-clip-twice")
    _, second = await stack.post("/v1/clips", body, key="e2e-clip-twice")
    assert first["id"] == second["id"]
    await stack.eventually(f"/v1/clips/{first['id']}", status_is("succeeded"), timeout=120)
    listing = await stack.eventually("/v1/clips?limit=200", lambda s, b: s == 200)
    assert [c["id"] for c in listing["items"]].count(first["id"]) == 1


async def test_hostile_sources_are_refused_at_once(stack: Stack) -> None:
    for path in ("../etc/passwd", "/etc/passwd", "http://example.com/a.mp4", "concat:a|b"):
        status, problem = await stack.post(
            "/v1/clips", {"source": {"path": path}, "start": 0, "duration": 1},
            key=f"e2e-hostile-{path}",
        )  # fmt: skip
        assert status == 422, (path, problem)


async def test_a_file_that_is_not_media_fails_registration_with_a_reason(stack: Stack) -> None:
    (space(stack) / "notes.mp4").write_text("#EXTM3U\n#EXT-X-VERSION:3\n")
    status, accepted = await stack.post(
        "/v1/assets", {"path": "notes.mp4", "kind": "video"}, key="e2e-asset-notes"
    )
    assert status == 202
    asset = await stack.eventually(
        f"/v1/assets/{accepted['id']}", status_is("registered", "failed"), timeout=60
    )
    assert asset["status"] == "failed"
    assert asset["error"]
