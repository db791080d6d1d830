"""Bad uploads: each is a clear 4xx, nothing is registered, nothing lands outside the space."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from clipper.paths import UPLOADS_DIR
from schemas.envelope import Envelope
from tests.integration.api.spaces import org_space
from tests.integration.api.uploads_support import (
    TUS,
    assert_no_500,
    create,
    created,
    encode_metadata,
    patch,
    upload_all,
)
from tests.media import make_video
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
ReadCommands = Callable[[], Awaitable[list[Envelope]]]
NOT_UTF8 = base64.b64encode(b"\xff").decode()
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_video(tmp_path_factory.mktemp("sources") / "v.mp4", 1.0).read_bytes()


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


async def offset_of(client: TestClient[Any, Any], url: str, auth: dict[str, str]) -> int:
    head = await client.head(url, headers={**auth, **TUS})
    assert head.status == 200
    return int(head.headers["Upload-Offset"])


async def problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    assert resp.headers["Tus-Resumable"] == "1.0.0"
    body: dict[str, Any] = await resp.json(content_type=None)
    assert body["status"] == status and body["detail"]
    return body


async def test_a_patch_at_the_wrong_offset_is_409_and_writes_nothing(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    url = await created(client, bearer(), 1000)
    assert (await patch(client, url, bearer(), 0, MP4_HEAD)).status == 204
    body = await problem(await patch(client, url, bearer(), 0, MP4_HEAD), 409)
    assert body["upload_offset"] == len(MP4_HEAD)
    await problem(await patch(client, url, bearer(), 500, b"x" * 10), 409)
    assert await offset_of(client, url, bearer()) == len(MP4_HEAD)


async def test_a_patch_past_the_declared_length_is_413_and_keeps_the_offset(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    url = await created(client, bearer(), 40)
    await problem(await patch(client, url, bearer(), 0, MP4_HEAD + b"x" * 20), 413)

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: caught while reading
        yield MP4_HEAD
        yield b"x" * 20

    await problem(await patch(client, url, bearer(), 0, streamed()), 413)  # type: ignore[arg-type]
    assert await offset_of(client, url, bearer()) == 0


async def test_a_patch_with_another_content_type_is_415(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    url = await created(client, bearer(), 100)
    for content_type in ("application/octet-stream", "application/json", "text/plain"):
        resp = await patch(client, url, bearer(), 0, MP4_HEAD, Content_Type=content_type)
        await problem(resp, 415)
    assert await offset_of(client, url, bearer()) == 0


async def test_a_chunk_larger_than_the_limit_is_413_however_it_is_sent(
    client_factory: Callable[..., Awaitable[TestClient[Any, Any]]], bearer: Headers
) -> None:
    client = await client_factory(upload_chunk_max_bytes=1024)
    url = await created(client, bearer(), 10_000)
    await problem(await patch(client, url, bearer(), 0, MP4_HEAD + b"x" * 1024), 413)

    async def streamed() -> AsyncIterator[bytes]:
        yield MP4_HEAD
        for _ in range(4):
            yield b"x" * 512

    await problem(await patch(client, url, bearer(), 0, streamed()), 413)  # type: ignore[arg-type]
    assert await offset_of(client, url, bearer()) == 0
    assert (await patch(client, url, bearer(), 0, MP4_HEAD + b"x" * 900)).status == 204


async def test_a_chunk_whose_checksum_differs_is_460_and_discarded(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    url = await created(client, bearer(), 1000)
    wrong = "sha1 " + base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    await problem(await patch(client, url, bearer(), 0, MP4_HEAD, Upload_Checksum=wrong), 460)
    assert await offset_of(client, url, bearer()) == 0
    unknown = await patch(client, url, bearer(), 0, MP4_HEAD, Upload_Checksum="crc32 AAAAAA==")
    await problem(unknown, 400)
    right = "sha256 " + base64.b64encode(hashlib.sha256(MP4_HEAD).digest()).decode()
    resp = await patch(client, url, bearer(), 0, MP4_HEAD, Upload_Checksum=right)
    assert resp.status == 204 and resp.headers["Upload-Offset"] == str(len(MP4_HEAD))


async def test_a_file_whose_sha256_differs_from_its_metadata_is_refused_and_removed(
    client: TestClient[Any, Any],
    bearer: Headers,
    settings: Settings,
    video: bytes,
    read_commands: ReadCommands,
) -> None:
    resp = await upload_all(client, bearer(), video, sha256="ab" * 32)
    body = await problem(resp, 422)
    assert hashlib.sha256(video).hexdigest() in body["detail"]
    assert files_under(org_space(settings)) == []
    assert [c for c in await read_commands() if c.type == "asset.RegisterAsset"] == []


@pytest.mark.parametrize(
    "filename",
    ["..", "../../etc/passwd.mp4", "a/b.mp4", "a\\b.mp4", "x\x00.mp4", "-i.mp4",
     "a" * 4000 + ".mp4", "line\nbreak.mp4", "..hidden.mp4"],
)  # fmt: skip
async def test_a_hostile_filename_is_refused_at_creation(
    client: TestClient[Any, Any], bearer: Headers, settings: Settings, filename: str
) -> None:
    body = await problem(await create(client, bearer(), 1000, filename=filename), 422)
    assert body["errors"][0]["loc"] == ["header", "Upload-Metadata", "filename"]
    assert files_under(settings.media_root) == []


async def test_malformed_creation_headers_are_400(
    client: TestClient[Any, Any], bearer: Headers, settings: Settings
) -> None:
    auth = {**bearer(), **TUS}
    meta = encode_metadata(filename="a.mp4")
    for headers in (
        {"Upload-Metadata": meta},  # no Upload-Length
        {"Upload-Length": "-1", "Upload-Metadata": meta},
        {"Upload-Length": "1e3", "Upload-Metadata": meta},
        {"Upload-Length": "10", "Upload-Metadata": "filename not-base64!"},
        {
            "Upload-Length": "10",
            "Upload-Metadata": "filename " + base64.b64encode(b"\xff").decode(),
        },
        {"Upload-Defer-Length": "1", "Upload-Metadata": meta},
    ):
        resp = await client.post("/v1/uploads", headers={**auth, **headers})
        await problem(resp, 400)
    no_name = await client.post("/v1/uploads", headers={**auth, "Upload-Length": "10"})
    await problem(no_name, 422)
    bad_kind = await create(client, bearer(), 10, kind="spreadsheet")
    await problem(bad_kind, 422)
    assert files_under(settings.media_root) == []


async def test_a_zero_byte_file_is_refused(
    client: TestClient[Any, Any], bearer: Headers, settings: Settings
) -> None:
    body = await problem(await create(client, bearer(), 0), 400)
    assert "empty" in body["detail"]
    assert files_under(settings.media_root) == []


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10,\nfile:///etc/passwd\n", "HLS playlist"),
        (b"ffconcat version 1.0\nfile '/etc/passwd'\n", "ffconcat list"),
        (b"\xef\xbb\xbf#EXTM3U\nhttp://example.invalid/a.ts\n", "HLS playlist"),
        (b"<html><script>alert(1)</script></html>" * 3, "does not start like"),
        (b"PK\x03\x04" + b"\x00" * 200, "does not start like"),
    ],
)
async def test_a_playlist_or_non_media_file_named_mp4_is_refused_and_removed(
    client: TestClient[Any, Any],
    bearer: Headers,
    settings: Settings,
    read_commands: ReadCommands,
    content: bytes,
    what: str,
) -> None:
    body = await problem(await upload_all(client, bearer(), content, filename="talk.mp4"), 415)
    assert what in body["detail"]
    assert files_under(org_space(settings)) == []
    assert [c for c in await read_commands() if c.type == "asset.RegisterAsset"] == []


async def test_a_playlist_is_refused_at_its_first_chunk_not_after_the_whole_file(
    client: TestClient[Any, Any], bearer: Headers, settings: Settings
) -> None:
    url = await created(client, bearer(), 10_000_000)
    resp = await patch(client, url, bearer(), 0, b"#EXTM3U\n" + b"#EXTINF:1,\na.ts\n" * 10)
    await problem(resp, 415)
    assert (await client.head(url, headers={**bearer(), **TUS})).status == 404
    assert files_under(org_space(settings)) == []


async def test_a_symlink_planted_in_the_space_never_gets_a_byte_written_outside(
    client: TestClient[Any, Any], bearer: Headers, settings: Settings, tmp_path: Path, video: bytes
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    space = org_space(settings)
    os.symlink(outside, space / UPLOADS_DIR)
    await problem(await create(client, bearer(), len(video)), 409)
    assert files_under(outside) == []

    os.unlink(space / UPLOADS_DIR)
    os.symlink(outside, space / "uploaded")
    url = await created(client, bearer(), len(video))
    await problem(await patch(client, url, bearer(), 0, video), 409)
    assert files_under(outside) == []

    (space / "link.mp4").symlink_to(outside / "secret.mp4")
    (outside / "secret.mp4").write_bytes(video)
    resp = await client.post(
        "/v1/assets",
        json={"path": "link.mp4"},
        headers={**bearer(), "Idempotency-Key": "planted"},
    )
    assert resp.status == 422
    assert "outside" in (await resp.json(content_type=None))["errors"][0]["msg"]
    await assert_no_500(client)


async def test_a_partial_upload_cannot_be_registered_or_clipped_by_path(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    url = await created(client, bearer(), 1000)
    assert (await patch(client, url, bearer(), 0, MP4_HEAD)).status == 204
    part = f"{UPLOADS_DIR}/{url.rsplit('/', 1)[-1]}.part"
    register = await client.post(
        "/v1/assets", json={"path": part}, headers={**bearer(), "Idempotency-Key": "part"}
    )
    assert register.status == 422
    clip = await client.post(
        "/v1/clips",
        json={"source": {"path": part}, "start": 0, "duration": 1},
        headers={**bearer(), "Idempotency-Key": "part-clip"},
    )
    assert clip.status == 422


async def test_a_title_postgresql_cannot_store_is_refused_at_creation(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    body = await problem(await create(client, bearer(), 1000, title="a\x00b"), 422)
    assert body["errors"][0]["loc"] == ["header", "Upload-Metadata", "title"]
