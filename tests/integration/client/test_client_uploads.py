"""Uploads through the SDK's tus client: whole, resumed after a connection cut mid-PATCH
(from the offset the server reports), and resumed later from the upload's URL."""

from __future__ import annotations

import hashlib
import types
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from client import RetryPolicy, UploadFailed, WaveStack
from tests.integration.client.cutting_proxy import CuttingProxy
from tests.integration.client.stack import SdkStack, eventually
from tests.media import make_video


def recording_session(log: list[tuple[str, str, dict[str, str]]]) -> aiohttp.ClientSession:
    """A session that notes every request it makes: method, path, headers."""
    trace = aiohttp.TraceConfig()

    async def started(_s: aiohttp.ClientSession, _c: types.SimpleNamespace, params: Any) -> None:
        log.append((params.method, URL(params.url).path, dict(params.headers)))

    trace.on_request_start.append(started)
    return aiohttp.ClientSession(trace_configs=[trace])


async def registered(ws: WaveStack, asset_id: Any) -> Any:
    return await eventually(
        lambda: ws.asset(asset_id), lambda a: a.status in ("registered", "failed")
    )


async def test_a_file_is_uploaded_in_chunks_and_registered(
    sdk_stack: SdkStack, tmp_path: Path
) -> None:
    video = make_video(tmp_path / "talk.mp4", seconds=4.0)
    async with sdk_stack.client() as ws:
        done = await ws.upload(video, title="Talk", chunk_size=64 * 1024)
        await ws.wait_for_outcome(done.command_id, timeout=30, check=True)
        asset = await registered(ws, done.asset_id)
    assert asset.status == "registered", asset
    assert asset.sha256 == hashlib.sha256(video.read_bytes()).hexdigest()
    assert (asset.title, asset.size_bytes) == ("Talk", video.stat().st_size)


async def test_an_upload_cut_mid_patch_resumes_from_the_servers_offset(
    sdk_stack: SdkStack, tmp_path: Path
) -> None:
    video = make_video(tmp_path / "cut.mp4", seconds=4.0)
    size = video.stat().st_size
    proxy = CuttingProxy(URL(sdk_stack.base_url).port or 80, cut_after=size // 2)
    base = await proxy.start()
    log: list[tuple[str, str, dict[str, str]]] = []
    session = recording_session(log)
    try:
        async with WaveStack(base, token=sdk_stack.token(), session=session) as ws:
            done = await ws.upload(video, chunk_size=size // 5)
            asset = await registered(ws, done.asset_id)
    finally:
        await session.close()
        await proxy.stop()
    assert proxy.cuts == 1
    assert asset.status == "registered" and asset.size_bytes == size
    assert asset.sha256 == hashlib.sha256(video.read_bytes()).hexdigest()
    methods = [m for m, _, _ in log]
    # Create, ask the offset, PATCH until the cut, ask again, PATCH from there.
    assert methods[:2] == ["POST", "HEAD"] and methods.count("HEAD") >= 2
    cut_at = max(i for i, m in enumerate(methods) if m == "HEAD")
    offsets = [int(h["Upload-Offset"]) for m, _, h in log[cut_at + 1 :] if m == "PATCH"]
    assert offsets and 0 < offsets[0] < size and offsets[0] % (size // 5) == 0


async def test_an_upload_that_ran_out_of_retries_resumes_from_its_url(
    sdk_stack: SdkStack, tmp_path: Path
) -> None:
    video = make_video(tmp_path / "later.mp4", seconds=4.0)
    size = video.stat().st_size
    proxy = CuttingProxy(URL(sdk_stack.base_url).port or 80, cut_after=size // 2)
    base = await proxy.start()
    try:
        impatient = WaveStack(base, token=sdk_stack.token(), retry=RetryPolicy(attempts=1))
        async with impatient as ws:
            with pytest.raises(UploadFailed) as failed:
                await ws.upload(video, chunk_size=size // 4)
    finally:
        await proxy.stop()
    url = failed.value.url
    assert url is not None
    resume = url.replace(base, sdk_stack.base_url)
    async with sdk_stack.client() as ws:
        done = await ws.upload(video, url=resume)
        asset = await registered(ws, done.asset_id)
    assert asset.status == "registered"
    assert asset.sha256 == hashlib.sha256(video.read_bytes()).hexdigest()
