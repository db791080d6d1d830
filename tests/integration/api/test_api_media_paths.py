"""Media paths in POST /v1/assets and /v1/clips: hostile shapes refused at once, files checked."""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from schemas.envelope import Envelope
from tests.integration.api.spaces import org_space
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
Reader = Callable[[], Awaitable[list[Envelope]]]

HOSTILE_PATHS = [
    "../etc/passwd",
    "a/../../b.mp4",
    "..",
    "/etc/passwd",
    "/",
    "http://example.com/a.mp4",
    "https:a.mp4",
    "HTTP://EXAMPLE.COM/a.mp4",
    "concat:a.mp4|b.mp4",
    "subfile,,start,0,end,0,,:a.mp4",
    "file:/etc/passwd",
    "file:a.mp4",
    "C:/windows/a.mp4",
    "line\nbreak.mp4",
    "carriage\rreturn.mp4",
    "tab\there.mp4",
    "bell\x07.mp4",
    "del\x7f.mp4",
    "right-to-left\u202emp4.exe",
    "zero\u200bwidth.mp4",
    "a\\b.mp4",
    "./a.mp4",
    "a//b.mp4",
    "a/",
    "   ",
]


def new_key(**more: str) -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4()), **more}


@pytest.mark.parametrize("path", HOSTILE_PATHS)
async def test_a_clip_or_asset_path_that_escapes_or_names_a_protocol_is_a_422(
    client: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    settings: Settings,
    path: str,
) -> None:
    (org_space(settings) / "a.mp4").write_bytes(b"x")  # the plain form would exist
    clip = await client.post(
        "/v1/clips",
        json={"source": {"path": path}, "start": 0, "duration": 5},
        headers=bearer() | new_key(),
    )
    assert clip.status == 422, await clip.text()
    [error] = (await clip.json())["errors"]
    assert error["loc"] == ["body", "source", "path"]
    assert error["msg"]
    asset = await client.post("/v1/assets", json={"path": path}, headers=bearer() | new_key())
    assert asset.status == 422
    assert (await asset.json())["errors"][0]["loc"] == ["body", "path"]
    assert await read_commands() == []


async def test_a_path_with_a_nul_character_is_a_422_naming_the_field(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader
) -> None:
    resp = await client.post(
        "/v1/assets", json={"path": "nul\x00.mp4"}, headers=bearer() | new_key()
    )
    assert resp.status == 422
    assert (await resp.json())["errors"][0]["loc"] == ["body", "path"]
    assert await read_commands() == []


async def test_a_file_missing_from_the_media_root_is_a_422_at_once(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader
) -> None:
    asset = await client.post(
        "/v1/assets", json={"path": "uploads/missing.mp4"}, headers=bearer() | new_key()
    )
    assert asset.status == 422
    assert (await asset.json())["errors"] == [
        {"loc": ["body", "path"], "msg": "no such file under the media root"}
    ]
    clip = await client.post(
        "/v1/clips",
        json={"source": {"path": "uploads/missing.mp4"}, "start": 0, "duration": 5},
        headers=bearer() | new_key(),
    )
    assert clip.status == 422
    assert (await clip.json())["errors"][0]["loc"] == ["body", "source", "path"]
    assert await read_commands() == []


async def test_a_symlink_out_of_the_media_root_is_refused_even_though_the_file_exists(
    client: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    settings: Settings,
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"secret")
    os.symlink(outside, org_space(settings) / "link.mp4")
    (org_space(settings) / "folder").mkdir()
    for path, reason in (("link.mp4", "outside the media root"), ("folder", "not a regular file")):
        resp = await client.post("/v1/assets", json={"path": path}, headers=bearer() | new_key())
        assert resp.status == 422, path
        assert reason in (await resp.json())["errors"][0]["msg"]
    assert await read_commands() == []


async def test_a_symlink_that_stays_inside_the_media_root_is_accepted_as_sent(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader, settings: Settings
) -> None:
    (org_space(settings) / "real.mp4").write_bytes(b"x")
    os.symlink("real.mp4", org_space(settings) / "alias.mp4")
    resp = await client.post("/v1/assets", json={"path": "alias.mp4"}, headers=bearer() | new_key())
    assert resp.status == 202
    [envelope] = await read_commands()
    assert envelope.data["path"] == "alias.mp4"


async def test_a_file_name_starting_with_a_dash_is_just_a_file_name(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader, settings: Settings
) -> None:
    (org_space(settings) / "-i.mp4").write_bytes(b"x")
    resp = await client.post(
        "/v1/clips",
        json={"source": {"path": "-i.mp4"}, "start": 0, "duration": 5},
        headers=bearer() | new_key(),
    )
    assert resp.status == 202
    [envelope] = await read_commands()
    assert envelope.data["resolved_source"] == {"asset_id": None, "path": "-i.mp4", "sha256": None}


async def test_a_retry_of_an_accepted_registration_answers_the_same_ids_after_the_file_moved(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader, settings: Settings
) -> None:
    source = org_space(settings) / "talk.mp4"
    source.write_bytes(b"x")
    headers = bearer() | new_key()
    first = await client.post("/v1/assets", json={"path": "talk.mp4"}, headers=headers)
    source.unlink()
    again = await client.post("/v1/assets", json={"path": "talk.mp4"}, headers=headers)
    assert first.status == again.status == 202
    assert await first.json() == await again.json()
    assert len(await read_commands()) == 1
