"""The ops endpoints: health, readiness, metrics, OpenAPI, and the 500 problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]


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


async def test_openapi_says_only_a_cancel_may_come_without_a_body(
    client: TestClient[Any, Any],
) -> None:
    paths = (await (await client.get("/openapi.json")).json())["paths"]
    cancel = paths["/v1/queue/{id}/cancel"]["post"]
    reschedule = paths["/v1/queue/{id}/reschedule"]["post"]
    assert cancel["requestBody"]["required"] is False
    assert reschedule["requestBody"]["required"] is True
    key = next(p for p in reschedule["parameters"] if p["name"] == "Idempotency-Key")
    assert key["required"] is False
    for op in (cancel, reschedule):
        assert op["responses"]["409"]["description"] == "Invalid transition"
        assert op["responses"]["503"]["description"] == "Kafka or PostgreSQL unreachable"
        assert op["responses"]["413"]["description"] == "Body over 1 MiB"


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
