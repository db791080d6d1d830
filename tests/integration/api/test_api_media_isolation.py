"""Another organization can name, register, clip, download or touch none of org-a's media."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from clipper.paths import space_dir
from tests.integration.api.spaces import org_space
from tests.integration.api.uploads_support import TUS, created, patch
from tests.media import make_video
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
AssetFactory = Callable[..., Awaitable[Any]]
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"


@pytest.fixture
def a_file(settings: Settings) -> Path:
    """org-a's source, at in/source.mp4 of its space."""
    folder = org_space(settings) / "in"
    folder.mkdir()
    return make_video(folder / "source.mp4", 1.0)


async def test_org_b_cannot_register_or_clip_org_a_files_by_any_path(
    client: TestClient[Any, Any], bearer: Headers, a_file: Path, settings: Settings
) -> None:
    org_b = bearer(org="org-b")
    paths = [
        "in/source.mp4",
        f"../{space_dir('org-a')}/in/source.mp4",
        f"{space_dir('org-a')}/in/source.mp4",
        str(a_file),
        f"file:{a_file}",
    ]
    for i, path in enumerate(paths):
        register = await client.post(
            "/v1/assets", json={"path": path}, headers={**org_b, "Idempotency-Key": f"r{i}"}
        )
        assert register.status == 422, path
        clip = await client.post(
            "/v1/clips",
            json={"source": {"path": path}, "start": 0, "duration": 0.5},
            headers={**org_b, "Idempotency-Key": f"c{i}"},
        )
        assert clip.status == 422, path
    # A link in org-b's own space to org-a's file is refused as leaving the space.
    org_space(settings, "org-b").joinpath("theirs.mp4").symlink_to(a_file)
    linked = await client.post(
        "/v1/assets", json={"path": "theirs.mp4"}, headers={**org_b, "Idempotency-Key": "l"}
    )
    assert linked.status == 422
    # The owner can: the same path is fine in org-a's space (control).
    mine = await client.post(
        "/v1/assets", json={"path": "in/source.mp4"}, headers={**bearer(), "Idempotency-Key": "a"}
    )
    assert mine.status == 202


async def test_org_b_gets_404_for_org_a_assets_content_and_clips_by_id(
    client: TestClient[Any, Any], bearer: Headers, add_asset: AssetFactory, a_file: Path
) -> None:
    asset_id = await add_asset("in/source.mp4", duration_s=1.0)
    org_b = bearer(org="org-b")
    for url in (f"/v1/assets/{asset_id}", f"/v1/assets/{asset_id}/content"):
        resp = await client.get(url, headers=org_b)
        assert resp.status == 404, url
        assert b"ftyp" not in await resp.read()
        assert (await client.get(url, headers=bearer())).status == 200  # control
    clip = await client.post(
        "/v1/clips",
        json={"source": {"asset_id": str(asset_id)}, "start": 0, "duration": 0.5},
        headers={**org_b, "Idempotency-Key": "by-id"},
    )
    assert clip.status == 404


async def test_org_b_gets_404_for_every_tus_route_of_org_a_upload_which_stays_intact(
    client: TestClient[Any, Any], bearer: Headers, settings: Settings
) -> None:
    url = await created(client, bearer(), 1000)
    assert (await patch(client, url, bearer(), 0, MP4_HEAD)).status == 204
    org_b = {**bearer(org="org-b"), **TUS}
    assert (await client.head(url, headers=org_b)).status == 404
    resp = await patch(client, url, bearer(org="org-b"), len(MP4_HEAD), b"x" * 10)
    assert resp.status == 404
    assert (await client.delete(url, headers=org_b)).status == 404
    head = await client.head(url, headers={**bearer(), **TUS})
    assert head.status == 200 and head.headers["Upload-Offset"] == str(len(MP4_HEAD))
    assert not org_space(settings, "org-b").joinpath(".uploads").exists()


async def test_org_b_usage_does_not_count_org_a_uploads(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    await created(client, bearer(), 5000)
    usage = await (await client.get("/v1/usage", headers=bearer(org="org-b"))).json()
    assert usage["bytes_reserved"] == 0 and usage["open_uploads"] == 0
    mine = await (await client.get("/v1/usage", headers=bearer())).json()
    assert mine["bytes_reserved"] == 5000
