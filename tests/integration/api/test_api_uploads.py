"""tus uploads with a client no one here wrote (tuspy), resumed after a cut, registered once."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientError
from aiohttp.test_utils import TestClient
from tusclient.client import TusClient
from yarl import URL

from clipper.paths import UPLOADS_DIR
from schemas.envelope import Envelope
from schemas.ids import aggregate_id_for, command_id_for
from tests.integration.api.spaces import org_space
from tests.integration.api.uploads_support import (
    TUS,
    assert_no_500,
    created,
    patch,
    small_video,
    upload_all,
)
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
ReadCommands = Callable[[], Awaitable[list[Envelope]]]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_video(tmp_path_factory.mktemp("sources"), "talk.mp4")


def tus_client(client: TestClient[Any, Any], auth: dict[str, str]) -> TusClient:
    return TusClient(str(client.make_url("/v1/uploads")), headers=auth)


def registrations(commands: list[Envelope]) -> list[Envelope]:
    return [c for c in commands if c.type == "asset.RegisterAsset"]


async def test_tuspy_uploads_a_video_that_becomes_a_registered_asset_in_the_callers_space(
    client: TestClient[Any, Any],
    bearer: Headers,
    settings: Settings,
    video: Path,
    read_commands: ReadCommands,
) -> None:
    data = video.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    uploader = tus_client(client, bearer()).uploader(
        file_path=str(video),
        chunk_size=16 * 1024,
        metadata={"filename": "My talk.mp4", "kind": "video", "sha256": digest},
        upload_checksum=True,  # sha1 of every chunk (Upload-Checksum)
    )
    await asyncio.to_thread(uploader.upload)
    assert uploader.offset == len(data)
    assert uploader.url is not None

    head = await client.head(URL(uploader.url).path, headers={**bearer(), **TUS})
    assert head.status == 200
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(len(data))
    assert head.headers["Tus-Resumable"] == "1.0.0"
    upload_id = uploader.url.rsplit("/", 1)[-1]
    command_id = command_id_for("org-a", f"upload:{upload_id}")
    asset_id = aggregate_id_for(command_id)
    assert head.headers["Asset-Id"] == str(asset_id)
    assert head.headers["Asset-Location"] == f"/v1/assets/{asset_id}"

    stored = org_space(settings) / "uploaded" / f"{upload_id}.mp4"
    assert stored.read_bytes() == data
    assert not list((org_space(settings) / UPLOADS_DIR).glob("*.part"))
    [register] = registrations(await read_commands())
    assert register.command_id == command_id and register.aggregate_id == asset_id
    assert register.org_id == "org-a"
    assert register.data == {
        "path": f"uploaded/{upload_id}.mp4",
        "kind": "video",
        "title": "My talk",
        "project_id": None,
    }


async def test_a_transfer_cut_off_midway_resumes_from_the_offset_head_reports(
    client: TestClient[Any, Any], bearer: Headers, settings: Settings, video: Path
) -> None:
    data = video.read_bytes()
    url = await created(client, bearer(), len(data))
    sent = len(data) // 2

    async def body() -> AsyncIterator[bytes]:
        yield data[: sent // 2]
        yield data[sent // 2 : sent]
        await asyncio.sleep(0.3)  # let the server write what it got
        raise ConnectionResetError("the network went away")

    with pytest.raises((ClientError, ConnectionResetError)):
        await patch(client, url, bearer(), 0, body())  # type: ignore[arg-type]

    offset = -1
    for _ in range(50):  # the server notices the cut a moment later
        head = await client.head(url, headers={**bearer(), **TUS})
        if head.headers["Upload-Offset"] == str(offset):
            break
        offset = int(head.headers["Upload-Offset"])
        await asyncio.sleep(0.1)
    assert 0 < offset <= sent  # what arrived is kept; nothing past it is counted

    # tuspy resumes an upload it is given the URL of: HEAD, then PATCHes from there.
    # (Made in a thread: given a URL, the uploader's constructor already HEADs it.)
    resumed = await asyncio.to_thread(
        tus_client(client, bearer()).uploader,
        file_path=str(video),
        url=str(client.make_url(url)),
        chunk_size=32 * 1024,
    )
    assert resumed.offset == offset
    await asyncio.to_thread(resumed.upload)
    upload_id = url.rsplit("/", 1)[-1]
    assert (org_space(settings) / "uploaded" / f"{upload_id}.mp4").read_bytes() == data
    await assert_no_500(client, cut_patches=1)


async def test_tuspy_stopped_midway_and_started_again_finishes_the_same_upload(
    client: TestClient[Any, Any], bearer: Headers, settings: Settings, video: Path
) -> None:
    data = video.read_bytes()
    first = tus_client(client, bearer()).uploader(
        file_path=str(video), chunk_size=8 * 1024, metadata={"filename": "talk.mp4"}
    )
    await asyncio.to_thread(first.upload, stop_at=len(data) // 3)
    assert 0 < first.offset < len(data)
    second = await asyncio.to_thread(
        tus_client(client, bearer()).uploader,
        file_path=str(video),
        url=first.url,
        chunk_size=8 * 1024,
    )
    assert second.offset == first.offset
    await asyncio.to_thread(second.upload)
    assert first.url is not None
    upload_id = first.url.rsplit("/", 1)[-1]
    assert (org_space(settings) / "uploaded" / f"{upload_id}.mp4").read_bytes() == data


async def test_a_retried_final_patch_or_a_crash_before_the_produce_registers_one_asset(
    client_factory: Callable[..., Awaitable[TestClient[Any, Any]]],
    bearer: Headers,
    settings: Settings,
    video: Path,
    read_commands: ReadCommands,
) -> None:
    client = await client_factory()
    data = video.read_bytes()
    url = await created(client, bearer(), len(data))
    last = await patch(client, url, bearer(), 0, data)
    assert last.status == 204
    asset_id = last.headers["Asset-Id"]
    # The answer was lost: the client retries the final PATCH, then asks with HEAD.
    again = await patch(client, url, bearer(), 0, data)
    assert again.status == 409
    assert json.loads(await again.text())["upload_offset"] == len(data)
    empty = await patch(client, url, bearer(), len(data), b"")
    assert empty.status == 204 and empty.headers["Asset-Id"] == asset_id

    # A crash between the rename and the produce: another API process finishes the job.
    upload_id = url.rsplit("/", 1)[-1]
    sidecar = org_space(settings) / UPLOADS_DIR / f"{upload_id}.json"
    record = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**record, "state": "registering"}))
    other = await client_factory()
    head = await other.head(url, headers={**bearer(), **TUS})
    assert head.status == 200 and head.headers["Asset-Id"] == asset_id

    found = registrations(await read_commands())
    assert len(found) == 2  # the restarted process produced it again ...
    assert {c.command_id for c in found} == {command_id_for("org-a", f"upload:{upload_id}")}
    assert {str(c.aggregate_id) for c in found} == {asset_id}  # ... as the same command


async def test_options_tells_the_protocol_version_extensions_and_limits(
    client_factory: Callable[..., Awaitable[TestClient[Any, Any]]],
) -> None:
    client = await client_factory(upload_max_bytes=12345)
    resp = await client.options("/v1/uploads")
    assert resp.status == 204
    assert resp.headers["Tus-Resumable"] == "1.0.0"
    assert resp.headers["Tus-Version"] == "1.0.0"
    assert set(resp.headers["Tus-Extension"].split(",")) == {
        "creation",
        "expiration",
        "termination",
        "checksum",
    }
    assert resp.headers["Tus-Max-Size"] == "12345"
    assert {"sha1", "sha256"} <= set(resp.headers["Tus-Checksum-Algorithm"].split(","))


async def test_a_request_without_tus_resumable_is_412_and_every_answer_carries_the_version(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    url = await created(client, bearer(), 10)
    for method, path in (("POST", "/v1/uploads"), ("PATCH", url), ("HEAD", url), ("DELETE", url)):
        resp = await client.request(method, path, headers=bearer())
        assert resp.status == 412, method
        assert resp.headers["Tus-Version"] == "1.0.0"
        assert resp.headers["Tus-Resumable"] == "1.0.0"
    no_token = await client.head(url, headers=TUS)
    assert no_token.status == 401 and no_token.headers["Tus-Resumable"] == "1.0.0"
    unknown = await client.head(f"/v1/uploads/{uuid.uuid4().hex}", headers={**bearer(), **TUS})
    assert unknown.status == 404 and unknown.headers["Tus-Resumable"] == "1.0.0"
    assert unknown.content_type == "application/problem+json"
    read_only = await client.head(url, headers={**bearer(scopes="read"), **TUS})
    assert read_only.status == 403


async def test_delete_abandons_an_upload_and_removes_its_bytes(
    client: TestClient[Any, Any], bearer: Headers, settings: Settings
) -> None:
    url = await created(client, bearer(), 100_000)
    assert (await patch(client, url, bearer(), 0, b"\x00\x00\x00\x20ftypisom" * 100)).status == 204
    uploads = org_space(settings) / UPLOADS_DIR
    assert list(uploads.iterdir())
    resp = await client.delete(url, headers={**bearer(), **TUS})
    assert resp.status == 204
    assert list(uploads.iterdir()) == []
    assert (await client.head(url, headers={**bearer(), **TUS})).status == 404


async def test_a_finished_upload_answers_its_asset_in_the_final_patch(
    client: TestClient[Any, Any], bearer: Headers, video: Path
) -> None:
    resp = await upload_all(client, bearer(), video.read_bytes(), title="Keynote")
    assert resp.status == 204
    assert uuid.UUID(resp.headers["Asset-Id"])
    assert uuid.UUID(resp.headers["Asset-Command-Id"])
    assert resp.headers["Upload-Offset"] == str(video.stat().st_size)
