"""Helpers of the upload tests: tus headers, raw tus requests, a small generated video."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from tests.media import make_video

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = "application/offset+octet-stream"


def encode_metadata(**pairs: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def small_video(folder: Path, name: str = "talk.mp4") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return make_video(folder / name, 2.0)


async def create(
    client: TestClient[Any, Any], auth: dict[str, str], length: int, **meta: str
) -> ClientResponse:
    pairs = {"filename": "talk.mp4", **meta}
    headers = {**auth, **TUS, "Upload-Length": str(length)}
    headers["Upload-Metadata"] = encode_metadata(**pairs)
    return await client.post("/v1/uploads", headers=headers)


async def created(
    client: TestClient[Any, Any], auth: dict[str, str], length: int, **meta: str
) -> str:
    """The path of a new upload (asserts the creation succeeded)."""
    resp = await create(client, auth, length, **meta)
    assert resp.status == 201, await resp.text()
    return resp.headers["Location"]


async def patch(
    client: TestClient[Any, Any],
    url: str,
    auth: dict[str, str],
    offset: int,
    data: bytes,
    **headers: str,
) -> ClientResponse:
    all_headers = {
        **auth,
        **TUS,
        "Upload-Offset": str(offset),
        "Content-Type": OFFSET_TYPE,
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    return await client.patch(url, headers=all_headers, data=data)


async def upload_all(
    client: TestClient[Any, Any], auth: dict[str, str], data: bytes, **meta: str
) -> ClientResponse:
    """Creates an upload of ``data`` and sends it in one PATCH; the PATCH's answer."""
    url = await created(client, auth, len(data), **meta)
    return await patch(client, url, auth, 0, data)


async def assert_no_500(client: TestClient[Any, Any], *, cut_patches: int = 0) -> None:
    """Nothing answered 500 so far. A PATCH whose client vanished is cancelled by aiohttp
    and answers nothing, but the request metric counts it as 500: ``cut_patches`` of
    those are expected."""
    metrics = await (await client.get("/metrics")).text()
    failed = [
        line
        for line in metrics.splitlines()
        if line.startswith("wavestack_api_requests_total") and 'status="500"' in line
    ]
    labels = 'method="PATCH",route="/v1/uploads/{id}",status="500"'
    cut = f"wavestack_api_requests_total{{{labels}}} {cut_patches}.0"
    assert failed == ([cut] if cut_patches else []), failed
