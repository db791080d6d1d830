"""GET /v1/assets/{id}/content: the registered file itself, by range, never outside the root."""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from api.reads.content import fd_inside, open_inside
from clipper.paths import MediaRoot
from tests.integration.api.spaces import org_space
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
AssetFactory = Callable[..., Awaitable[uuid.UUID]]

CONTENT = bytes(range(256)) * 64  # 16 KiB with a recognisable pattern


@pytest.fixture
def video(settings: Settings) -> Path:
    (org_space(settings) / "clips").mkdir()
    path = org_space(settings) / "clips" / "cut.mp4"
    path.write_bytes(CONTENT)
    return path


@pytest.fixture
async def video_url(add_asset: AssetFactory, video: Path) -> str:
    """Where ``video`` is served: its content URL, registered as an asset of org-a."""
    return f"/v1/assets/{await add_asset('clips/cut.mp4')}/content"


async def test_the_whole_file_is_served_with_a_media_type_and_validators(
    client: TestClient[Any, Any], bearer: Headers, video_url: str
) -> None:
    resp = await client.get(video_url, headers=bearer())
    assert resp.status == 200
    assert await resp.read() == CONTENT
    assert resp.headers["Content-Type"] == "video/mp4"
    assert resp.headers["Content-Length"] == str(len(CONTENT))
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["ETag"].startswith('"')
    assert "Last-Modified" in resp.headers


async def test_a_range_request_gets_206_with_exactly_those_bytes(
    client: TestClient[Any, Any], bearer: Headers, video_url: str
) -> None:
    size = len(CONTENT)
    for header, first, last in (
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=16000-", 16000, size - 1),
        ("bytes=-24", size - 24, size - 1),
        ("bytes=10-999999", 10, size - 1),
    ):
        resp = await client.get(video_url, headers=bearer() | {"Range": header})
        assert resp.status == 206, header
        assert await resp.read() == CONTENT[first : last + 1], header
        assert resp.headers["Content-Range"] == f"bytes {first}-{last}/{size}", header
        assert resp.headers["Content-Length"] == str(last - first + 1), header


@pytest.mark.parametrize("header", [f"bytes={len(CONTENT)}-", f"bytes={len(CONTENT) + 5}-99999"])
async def test_an_unsatisfiable_range_is_a_416_naming_the_size(
    client: TestClient[Any, Any], bearer: Headers, video_url: str, header: str
) -> None:
    resp = await client.get(video_url, headers=bearer() | {"Range": header})
    assert resp.status == 416
    assert resp.headers["Content-Range"] == f"bytes */{len(CONTENT)}"
    assert resp.content_type == "application/problem+json"


@pytest.mark.parametrize("header", ["bytes=5-2", "lines=1-2", "bytes=0-1,4-5", "bytes=x-"])
async def test_a_range_this_server_does_not_support_gets_the_whole_file(
    client: TestClient[Any, Any], bearer: Headers, video_url: str, header: str
) -> None:
    resp = await client.get(video_url, headers=bearer() | {"Range": header})
    assert resp.status == 200
    assert await resp.read() == CONTENT


async def test_conditional_requests_answer_304_or_ignore_a_stale_range(
    client: TestClient[Any, Any], bearer: Headers, video_url: str
) -> None:
    etag = (await client.get(video_url, headers=bearer())).headers["ETag"]
    cached = await client.get(video_url, headers=bearer() | {"If-None-Match": etag})
    assert cached.status == 304
    assert await cached.read() == b""
    same = await client.get(video_url, headers=bearer() | {"Range": "bytes=0-9", "If-Range": etag})
    assert (same.status, await same.read()) == (206, CONTENT[:10])
    stale = await client.get(
        video_url, headers=bearer() | {"Range": "bytes=0-9", "If-Range": '"old"'}
    )
    assert (stale.status, await stale.read()) == (200, CONTENT)


async def test_head_answers_the_headers_without_the_body(
    client: TestClient[Any, Any], bearer: Headers, video_url: str
) -> None:
    resp = await client.head(video_url, headers=bearer())
    assert resp.status == 200
    assert int(resp.headers["Content-Length"]) == len(CONTENT)
    assert await resp.read() == b""


async def test_another_organizations_asset_is_a_404(
    client: TestClient[Any, Any],
    bearer: Headers,
    add_asset: AssetFactory,
    video: Path,
    settings: Settings,
) -> None:
    asset_id = await add_asset("clips/cut.mp4", org="org-b")
    resp = await client.get(f"/v1/assets/{asset_id}/content", headers=bearer())
    assert resp.status == 404
    assert CONTENT[:64] not in await resp.read()
    # org-b's asset names a file of org-b's space, which holds none yet: org-a's
    # file of the same name is never served to it.
    owner = await client.get(f"/v1/assets/{asset_id}/content", headers=bearer(org="org-b"))
    assert owner.status == 404
    (org_space(settings, "org-b") / "clips").mkdir()
    (org_space(settings, "org-b") / "clips" / "cut.mp4").write_bytes(CONTENT[::-1])
    owner = await client.get(f"/v1/assets/{asset_id}/content", headers=bearer(org="org-b"))
    assert owner.status == 200
    assert await owner.read() == CONTENT[::-1]


@pytest.mark.parametrize("status", ["probing", "failed"])
async def test_an_asset_that_is_not_registered_serves_nothing(
    client: TestClient[Any, Any],
    bearer: Headers,
    add_asset: AssetFactory,
    video: Path,
    status: str,
) -> None:
    asset_id = await add_asset("clips/cut.mp4", status=status)
    resp = await client.get(f"/v1/assets/{asset_id}/content", headers=bearer())
    assert resp.status == 409
    assert (await resp.json())["asset_status"] == status


async def test_a_symlink_escaping_the_media_root_never_serves_the_outside_file(
    client: TestClient[Any, Any],
    bearer: Headers,
    add_asset: AssetFactory,
    settings: Settings,
    tmp_path: Path,
) -> None:
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"do not serve")
    os.symlink(secret, org_space(settings) / "escape.mp4")
    os.symlink(tmp_path, org_space(settings) / "dir-out")
    for path in (
        "escape.mp4",
        "dir-out/secret.mp4",
        "../secret.mp4",
        str(secret),
        "missing.mp4",
        ".",
    ):
        asset_id = await add_asset(path)
        resp = await client.get(f"/v1/assets/{asset_id}/content", headers=bearer())
        assert resp.status == 404, path
        assert b"do not serve" not in await resp.read()


async def test_a_file_swapped_for_a_link_after_registration_is_not_served(
    client: TestClient[Any, Any], bearer: Headers, video: Path, video_url: str, tmp_path: Path
) -> None:
    assert (await client.get(video_url, headers=bearer())).status == 200
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"do not serve")
    video.unlink()
    os.symlink(secret, video)
    resp = await client.get(video_url, headers=bearer())
    assert resp.status == 404
    assert b"do not serve" not in await resp.read()


async def test_a_file_that_is_not_media_is_served_as_an_opaque_download(
    client: TestClient[Any, Any], bearer: Headers, add_asset: AssetFactory, settings: Settings
) -> None:
    (org_space(settings) / "page.html").write_text("<script>alert(1)</script>")
    asset_id = await add_asset("page.html", container=None)
    resp = await client.get(f"/v1/assets/{asset_id}/content", headers=bearer())
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_a_descriptor_is_checked_for_where_the_file_really_is(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "in.mp4").write_bytes(b"inside")
    (tmp_path / "out.mp4").write_bytes(b"outside")
    for name, inside in ((root / "in.mp4", True), (tmp_path / "out.mp4", False)):
        fd = os.open(name, os.O_RDONLY)
        try:
            assert fd_inside(fd, root) is inside
        finally:
            os.close(fd)


def test_a_directory_replaced_by_a_link_out_is_not_opened(tmp_path: Path) -> None:
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    (root / "clips").mkdir(parents=True)
    elsewhere.mkdir()
    (root / "clips" / "a.mp4").write_bytes(b"inside")
    (elsewhere / "a.mp4").write_bytes(b"outside")
    opened = open_inside(MediaRoot(root), "clips/a.mp4")
    assert opened is not None
    fobj, st = opened
    with fobj:
        assert fobj.read() == b"inside"
    assert st.st_size == len(b"inside")
    (root / "clips" / "a.mp4").unlink()
    (root / "clips").rmdir()
    os.symlink(elsewhere, root / "clips")
    assert open_inside(MediaRoot(root), "clips/a.mp4") is None


JPEG = b"\xff\xd8\xff\xe0" + bytes(200) + b"\xff\xd9"


async def test_the_thumbnail_is_served_as_an_image_to_its_organization_only(
    client: TestClient[Any, Any], bearer: Headers, add_asset: AssetFactory, settings: Settings
) -> None:
    (org_space(settings) / "thumbs").mkdir()
    (org_space(settings) / "thumbs" / "cut.jpg").write_bytes(JPEG)
    asset_id = await add_asset("clips/cut.mp4", thumbnail_path="thumbs/cut.jpg")
    url = f"/v1/assets/{asset_id}/thumbnail"
    resp = await client.get(url, headers=bearer())
    assert resp.status == 200
    assert (resp.headers["Content-Type"], await resp.read()) == ("image/jpeg", JPEG)
    other = await client.get(url, headers=bearer(org="org-b"))
    assert other.status == 404 and JPEG not in await other.read()


@pytest.mark.parametrize(
    "thumbnail_path",
    [None, "thumbs/missing.jpg", "../outside.jpg", "/etc/hostname", "thumbs/page.html"],
)
async def test_no_thumbnail_or_one_that_is_not_an_image_in_the_space_is_a_404(
    client: TestClient[Any, Any],
    bearer: Headers,
    add_asset: AssetFactory,
    settings: Settings,
    thumbnail_path: str | None,
) -> None:
    (org_space(settings) / "thumbs").mkdir()
    (org_space(settings) / "thumbs" / "page.html").write_bytes(b"<script>alert(1)</script>")
    (org_space(settings).parent / "outside.jpg").write_bytes(JPEG)
    asset_id = await add_asset("clips/cut.mp4", thumbnail_path=thumbnail_path)
    resp = await client.get(f"/v1/assets/{asset_id}/thumbnail", headers=bearer())
    assert resp.status == 404
    assert (await resp.json())["status"] == 404


async def test_an_unregistered_assets_thumbnail_is_a_409(
    client: TestClient[Any, Any], bearer: Headers, add_asset: AssetFactory
) -> None:
    asset_id = await add_asset("clips/cut.mp4", status="probing", thumbnail_path="t.jpg")
    resp = await client.get(f"/v1/assets/{asset_id}/thumbnail", headers=bearer())
    assert resp.status == 409
