"""Uploads end to end: tuspy sends a video, the worker probes it, it clips and serves; a
file that only looks like media ends ``failed`` with a reason; org-b sees none of it."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from tusclient.client import TusClient
from yarl import URL

from tests.e2e.conftest import Stack
from tests.media import make_video


def status_is(*wanted: str) -> Any:
    def ready(status: int, body: dict[str, Any]) -> bool:
        return status == 200 and body.get("status") in wanted

    return ready


async def tus_upload(stack: Stack, path: Path, **metadata: str) -> str:
    """Uploads ``path`` with tuspy (in a thread: it is synchronous); the asset id."""

    def send() -> str:
        client = TusClient(f"{stack.base_url}/v1/uploads", headers=stack.headers())
        uploader = client.uploader(
            file_path=str(path), chunk_size=64 * 1024, metadata=metadata, upload_checksum=True
        )
        uploader.upload()
        assert uploader.url is not None
        return uploader.url

    url = await asyncio.to_thread(send)
    async with stack.http.head(
        URL(url), headers=stack.headers(**{"Tus-Resumable": "1.0.0"})
    ) as resp:
        assert resp.status == 200
        return resp.headers["Asset-Id"]


async def test_an_uploaded_video_is_probed_clipped_and_served_only_to_its_organization(
    stack: Stack, tmp_path: Path
) -> None:
    video = make_video(tmp_path / "keynote.mp4", seconds=6.0)
    digest = hashlib.sha256(video.read_bytes()).hexdigest()
    asset_id = await tus_upload(stack, video, filename="keynote.mp4", sha256=digest)
    asset = await stack.eventually(
        f"/v1/assets/{asset_id}", status_is("registered", "failed"), timeout=60
    )
    assert asset["status"] == "registered", asset
    assert asset["sha256"] == digest and asset["title"] == "keynote"
    assert asset["size_bytes"] == video.stat().st_size

    async with stack.http.get(
        f"{stack.base_url}/v1/assets/{asset_id}/content", headers=stack.headers()
    ) as resp:
        assert resp.status == 200
        assert hashlib.sha256(await resp.read()).hexdigest() == digest
    assert (await stack.get(f"/v1/assets/{asset_id}", org="org-b"))[0] == 404

    status, accepted = await stack.post(
        "/v1/clips",
        {"source": {"asset_id": asset_id}, "start": 1.0, "duration": 2.0},
        key="e2e-upload-clip",
    )
    assert status == 202, accepted
    clip = await stack.eventually(
        f"/v1/clips/{accepted['id']}", status_is("succeeded", "failed"), timeout=120
    )
    assert clip["status"] == "succeeded", clip

    _, usage = await stack.get("/v1/usage")
    assert usage["bytes_stored"] >= video.stat().st_size and usage["clips"] >= 1
    _, other = await stack.get("/v1/usage", org="org-b")
    assert other["bytes_stored"] == 0 and other["assets"] == 0


async def test_an_upload_that_only_starts_like_media_is_registered_as_failed_with_a_reason(
    stack: Stack, tmp_path: Path
) -> None:
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"\x00\x00\x00\x20ftypisom" + b"\x00garbage" * 4000)
    asset_id = await tus_upload(stack, fake, filename="fake.mp4", kind="video")
    asset = await stack.eventually(
        f"/v1/assets/{asset_id}", status_is("registered", "failed"), timeout=60
    )
    assert asset["status"] == "failed"
    assert asset["error"] and str(stack.settings.media_root) not in asset["error"]
