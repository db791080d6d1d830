"""Upload throughput: a 1 GiB file in 8 MiB tus PATCHes through the API, against a bare
aiohttp handler that writes the same chunks to disk (same piece size, synced per chunk).

Both servers are separate processes on 127.0.0.1; the client sends the same 8 MiB
buffer each time (the client's disk is not what is measured). ``UPLOAD_BENCH_MIB``
shrinks the file for a quick run. Every file written is removed afterwards.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from api.auth.cli import issue_token_from_settings
from tests.bench.harness import running, wait_http
from tests.processes import Child, free_port, settings_env
from wavestack import runtime
from wavestack.settings import Settings

CHUNK_BYTES = 8 * 1024 * 1024
PIECE_BYTES = 1024 * 1024  # the API's read size (api/uploads/receive.py)
TOTAL_MIB = int(os.environ.get("UPLOAD_BENCH_MIB", "1024"))
RUN_TIMEOUT_S = 120.0
ROUNDS = 2
TUS = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}


def chunk() -> bytes:
    """8 MiB that start like an MP4 (the API sniffs the first bytes)."""
    head = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    return head + os.urandom(CHUNK_BYTES - len(head))


async def send_chunks(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], total: int
) -> float:
    """PATCHes ``total`` bytes in order; returns the seconds it took."""
    data = chunk()
    started = time.perf_counter()
    for offset in range(0, total, CHUNK_BYTES):
        body = data[: min(CHUNK_BYTES, total - offset)]
        async with session.patch(
            url, data=body, headers={**headers, "Upload-Offset": str(offset)}
        ) as resp:
            if resp.status != 204:
                raise RuntimeError(f"PATCH at {offset}: {resp.status} {await resp.text()}")
    return time.perf_counter() - started


async def through_api(settings: Settings, workdir: Path, total: int) -> float:
    token = issue_token_from_settings(
        settings, org="bench", sub="bench-bot", scope="assets:write", ttl=3600, kind="bot"
    )
    auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    base = f"http://127.0.0.1:{settings.api_port}"
    async with running(Child("api", settings, workdir)), aiohttp.ClientSession() as session:
        await wait_http(f"{base}/readyz")
        create = {**auth, "Upload-Length": str(total), "Upload-Metadata": "filename YS5tcDQ="}
        async with session.post(f"{base}/v1/uploads", headers=create) as resp:
            if resp.status != 201:
                raise RuntimeError(f"creation: {resp.status} {await resp.text()}")
            url = base + resp.headers["Location"]
        return await send_chunks(session, url, {**auth, **TUS}, total)


async def through_bare(settings: Settings, workdir: Path, total: int) -> float:
    port = free_port()
    folder = workdir / "bare"
    folder.mkdir(exist_ok=True)
    bare = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "tests.bench.upload", str(port), str(folder)),
        env=settings_env(settings),
    )
    try:
        await wait_http(f"http://127.0.0.1:{port}/")
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/upload"
            return await send_chunks(session, url, TUS, total)
    finally:
        bare.terminate()
        await bare.wait()


def _clean(settings: Settings, workdir: Path) -> None:
    shutil.rmtree(workdir / "bare", ignore_errors=True)
    shutil.rmtree(settings.media_root, ignore_errors=True)


async def run(settings: Settings, workdir: Path) -> dict[str, Any]:
    """Alternating rounds, best of each: the disk's write-back makes one run noisy."""
    total = TOTAL_MIB * 1024 * 1024
    bare: list[float] = []
    api: list[float] = []
    try:
        for _ in range(ROUNDS):
            bare.append(
                await asyncio.wait_for(through_bare(settings, workdir, total), RUN_TIMEOUT_S)
            )
            _clean(settings, workdir)
            api.append(await asyncio.wait_for(through_api(settings, workdir, total), RUN_TIMEOUT_S))
            _clean(settings, workdir)
    finally:
        _clean(settings, workdir)
    mib = total / 1024 / 1024
    return {
        "file MiB": TOTAL_MIB,
        "rounds": ROUNDS,
        "bare MiB/s (best)": mib / min(bare),
        "API MiB/s (best)": mib / min(api),
        "ratio vs bare": min(bare) / min(api),
    }


# The bare server: `python -m tests.bench.upload PORT FOLDER`.


async def _bare_patch(request: web.Request) -> web.Response:
    position = int(request.headers["Upload-Offset"])
    path = request.app[_FOLDER] / "upload.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o640)
    try:
        async for data in request.content.iter_chunked(PIECE_BYTES):
            os.pwrite(fd, data, position)
            position += len(data)
        await asyncio.to_thread(os.fdatasync, fd)
    finally:
        os.close(fd)
    return web.Response(status=204, headers={"Upload-Offset": str(position)})


async def _bare_ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


_FOLDER = web.AppKey("folder", Path)


def main() -> None:
    runtime.prepare()  # the API's loop and collector
    app = web.Application()
    app[_FOLDER] = Path(sys.argv[2])
    app.router.add_patch("/upload", _bare_patch)
    app.router.add_get("/", _bare_ok)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
