"""Asset files with HTTP Range, and the ops endpoints (health, readiness, metrics, OpenAPI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
CONTENT = bytes(range(256)) * 40  # 10 KiB with a recognisable pattern


async def add_asset(db: asyncpg.Connection, path: str, org: str = "org-a") -> uuid.UUID:
    asset_id = uuid.uuid4()
    now = datetime.now(UTC)
    await db.execute(
        "INSERT INTO assets (id, org_id, path, kind, created_at, updated_at, version) "
        "VALUES ($1, $2, $3, 'video', $4, $4, 1)",
        asset_id,
        org,
        path,
        now,
    )
    return asset_id


async def test_asset_content_is_served_whole_and_by_range(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection, settings: Settings
) -> None:
    (settings.media_root / "clips").mkdir(parents=True)
    (settings.media_root / "clips" / "c.mp4").write_bytes(CONTENT)
    asset_id = await add_asset(db, "clips/c.mp4")
    url = f"/v1/assets/{asset_id}/content"

    whole = await client.get(url, headers=bearer())
    assert whole.status == 200
    assert await whole.read() == CONTENT
    assert whole.headers["Accept-Ranges"] == "bytes"

    part = await client.get(url, headers=bearer() | {"Range": "bytes=100-199"})
    assert part.status == 206
    assert await part.read() == CONTENT[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(CONTENT)}"

    tail = await client.get(url, headers=bearer() | {"Range": "bytes=-10"})
    assert tail.status == 206
    assert await tail.read() == CONTENT[-10:]

    beyond = await client.get(url, headers=bearer() | {"Range": f"bytes={len(CONTENT) + 5}-"})
    assert beyond.status == 416

    head = await client.head(url, headers=bearer())
    assert head.status == 200
    assert int(head.headers["Content-Length"]) == len(CONTENT)

    assert (await client.get(url, headers=bearer(org="org-b"))).status == 404


async def test_asset_content_never_leaves_the_media_root(
    client: TestClient[Any, Any],
    bearer: Headers,
    db: asyncpg.Connection,
    settings: Settings,
    tmp_path: Any,
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    os.symlink(secret, settings.media_root / "link.mp4")
    for path in ("../secret.txt", str(secret), "link.mp4", "missing.mp4", "."):
        asset_id = await add_asset(db, path)
        resp = await client.get(f"/v1/assets/{asset_id}/content", headers=bearer())
        assert resp.status == 404, path
        assert b"do not serve" not in await resp.read()


async def test_healthz_and_readyz_answer_when_everything_is_up(
    client: TestClient[Any, Any],
) -> None:
    health = await client.get("/healthz")
    assert (health.status, await health.json()) == (200, {"status": "ok"})
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"] == {"kafka": "ok", "postgresql": "ok"}


async def test_metrics_count_requests_by_route_and_status_and_commands_by_type(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    item = {"platform": "x", "title": "t"}
    await client.post("/v1/queue", json=item, headers=bearer() | {"Idempotency-Key": "m"})
    await client.get("/v1/queue/not-a-uuid", headers=bearer())
    resp = await client.get("/metrics")
    assert resp.status == 200
    text = await resp.text()
    assert 'wavestack_api_requests_total{method="POST",route="/v1/queue",status="202"} 1.0' in text
    assert 'route="/v1/queue/{id}",status="404"' in text
    assert 'wavestack_api_commands_produced_total{type="queue.EnqueueItem"} 1.0' in text
    assert "wavestack_api_request_duration_seconds_bucket" in text


async def test_openapi_document_covers_every_route_with_request_schemas(
    client: TestClient[Any, Any],
) -> None:
    resp = await client.get("/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.1")
    assert {"/v1/queue", "/v1/queue/{id}/cancel", "/v1/clips", "/v1/audit", "/readyz"} <= set(
        doc["paths"]
    )
    enqueue = doc["paths"]["/v1/queue"]["post"]
    ref = enqueue["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert schema["properties"]["title"]["maxLength"] == 100
    assert enqueue["security"] == [{"bearer": ["queue:write"]}]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in enqueue["parameters"])
    audit = doc["paths"]["/v1/audit"]["get"]
    assert {p["name"] for p in audit["parameters"]} >= {"aggregate_id", "type", "since", "cursor"}


async def test_an_unexpected_error_is_a_logged_500_problem_without_internals(
    settings: Settings, bearer: Headers
) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestServer
    from structlog.testing import capture_logs

    from api.app import create_app

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    app = create_app(settings)
    app.router.add_get("/boom", boom)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        with capture_logs() as logs:
            resp = await client.get("/boom", headers=bearer())
        assert resp.status == 500
        assert resp.content_type == "application/problem+json"
        assert "secret" not in await resp.text()
    finally:
        await client.close()
    [entry] = [e for e in logs if e["event"] == "unhandled error"]
    assert (entry["method"], entry["path"], entry["log_level"]) == ("GET", "/boom", "error")
