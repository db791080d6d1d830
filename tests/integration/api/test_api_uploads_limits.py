"""Upload limits: size (413), the organization's quota (507), expiry; and GET /v1/usage."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from api.uploads.sweeper import sweep_expired
from clipper.paths import UPLOADS_DIR, MediaRoot
from tests.integration.api.spaces import org_space
from tests.integration.api.uploads_support import TUS, create, created, patch
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
AssetFactory = Callable[..., Awaitable[Any]]
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"


async def test_an_upload_over_the_size_limit_is_413_at_creation(
    client_factory: ClientFactory, bearer: Headers, settings: Settings
) -> None:
    client = await client_factory(upload_max_bytes=1000)
    resp = await create(client, bearer(), 1001)
    assert resp.status == 413
    body = await resp.json(content_type=None)
    assert body["type"].endswith("upload-too-large") and "1000" in body["detail"]
    assert resp.headers["Tus-Resumable"] == "1.0.0"
    assert (await create(client, bearer(), 1000)).status == 201


async def test_the_quota_counts_stored_assets_and_open_uploads_and_answers_507(
    client_factory: ClientFactory,
    bearer: Headers,
    db: asyncpg.Connection,
    add_asset: AssetFactory,
) -> None:
    client = await client_factory(media_quota_bytes=10_000)
    stored = await add_asset("in/a.mp4")
    await db.execute("UPDATE assets SET size_bytes = 4000 WHERE id = $1", stored)
    failed = await add_asset("in/broken.mp4", status="failed")
    await db.execute("UPDATE assets SET size_bytes = 99999 WHERE id = $1", failed)
    other_org = await add_asset("in/b.mp4", org="org-b")
    await db.execute("UPDATE assets SET size_bytes = 500 WHERE id = $1", other_org)

    first = await created(client, bearer(), 5000)  # 4000 + 5000 <= 10000
    over = await create(client, bearer(), 1001)  # 4000 + 5000 reserved + 1001 > 10000
    assert over.status == 507
    body = await over.json(content_type=None)
    assert body["quota_bytes"] == 10_000 and body["used_bytes"] == 9000
    assert body["type"].endswith("quota-exceeded")
    assert (await create(client, bearer(), 1000)).status == 201  # exactly at the quota

    # Abandoning an upload gives its reservation back.
    assert (await client.delete(first, headers={**bearer(), **TUS})).status == 204
    assert (await create(client, bearer(), 4000)).status == 201
    # Another organization has its own quota, and only its own bytes count there.
    assert (await create(client, bearer(org="org-b"), 9500)).status == 201
    assert (await create(client, bearer(org="org-b"), 1)).status == 507


async def test_usage_reports_the_callers_bytes_assets_clips_and_open_uploads(
    client_factory: ClientFactory,
    bearer: Headers,
    db: asyncpg.Connection,
    add_asset: AssetFactory,
) -> None:
    client = await client_factory(media_quota_bytes=1_000_000)
    for size in (100, 250):
        asset = await add_asset()
        await db.execute("UPDATE assets SET size_bytes = $2 WHERE id = $1", asset, size)
    await add_asset(org="org-b")
    await created(client, bearer(), 777)
    resp = await client.get("/v1/usage", headers=bearer(scopes="read"))
    assert resp.status == 200
    assert await resp.json() == {
        "bytes_stored": 350,
        "bytes_reserved": 777,
        "quota_bytes": 1_000_000,
        "assets": 2,
        "clips": 0,
        "open_uploads": 1,
    }
    other = await (await client.get("/v1/usage", headers=bearer(org="org-b"))).json()
    assert other["assets"] == 1 and other["bytes_reserved"] == 0


async def test_an_expired_upload_answers_410_and_its_bytes_are_gone(
    client_factory: ClientFactory, bearer: Headers, settings: Settings
) -> None:
    client = await client_factory(upload_expiry_seconds=0.5)
    resp = await create(client, bearer(), 1000)
    expires = parsedate_to_datetime(resp.headers["Upload-Expires"])
    assert datetime.now(UTC) - timedelta(seconds=2) < expires < datetime.now(UTC) + timedelta(5)
    url = resp.headers["Location"]
    assert (await patch(client, url, bearer(), 0, MP4_HEAD)).status == 204
    await asyncio.sleep(1.1)
    gone = await patch(client, url, bearer(), len(MP4_HEAD), b"x" * 10)
    assert gone.status == 410
    assert list((org_space(settings) / UPLOADS_DIR).iterdir()) == []
    assert (await client.head(url, headers={**bearer(), **TUS})).status == 404


async def test_the_sweeper_removes_abandoned_uploads_bytes_and_keeps_live_ones(
    client: TestClient[Any, Any], bearer: Headers, settings: Settings
) -> None:
    abandoned = await created(client, bearer(), 1000)
    assert (await patch(client, abandoned, bearer(), 0, MP4_HEAD)).status == 204
    other = await created(client, bearer(org="org-b"), 1000)
    folder = org_space(settings) / UPLOADS_DIR
    assert len(list(folder.iterdir())) == 2  # part + sidecar
    media = MediaRoot(settings.media_root)
    assert await asyncio.to_thread(sweep_expired, media, datetime.now(UTC), 3600) == 0
    later = datetime.now(UTC) + timedelta(seconds=settings.upload_expiry_seconds + 1)
    assert await asyncio.to_thread(sweep_expired, media, later, 3600) == 2
    assert list(folder.iterdir()) == []
    assert list((org_space(settings, "org-b") / UPLOADS_DIR).iterdir()) == []
    assert (await client.head(other, headers={**bearer(org="org-b"), **TUS})).status == 404
