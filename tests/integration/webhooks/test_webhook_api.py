"""The /v1/webhooks routes: validation, idempotency, scopes and organization isolation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.integration.webhooks.conftest import SCOPES, Headers, key, stack_overrides
from tests.integration.webhooks.helpers import subscribe
from tests.integration.webhooks.support import Stack
from vault.keyring import generate_entry

ClientFactory = Any
HOOK = "https://hooks.example.com/wavestack"


@pytest.fixture
async def api(client_factory: ClientFactory) -> TestClient[Any, Any]:
    """The API alone, with a key ring and the egress rules on (no private addresses)."""
    overrides = stack_overrides(generate_entry("k1")) | {"egress_allow_private": False}
    client: TestClient[Any, Any] = await client_factory(**overrides)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/plain-http",
        "ftp://hooks.example.com/x",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/hook",
        "https://user:pw@hooks.example.com/hook",
        "https://hooks.example.com:99999/hook",
        "not a url",
        "javascript:alert(1)",
    ],
)
async def test_a_hostile_or_private_url_is_refused(
    api: TestClient[Any, Any], bearer: Headers, url: str
) -> None:
    body = {"url": url, "event_types": ["queue.ItemPublished"]}
    resp = await api.post("/v1/webhooks", json=body, headers=bearer(scopes=SCOPES) | key())
    assert resp.status == 422, await resp.text()
    problem = await resp.json()
    assert problem["errors"][0]["loc"] == ["body", "url"]


@pytest.mark.parametrize(
    ("types", "where"),
    [
        (["queue.NoSuchEvent"], ["body", "event_types", 0]),
        (["queue.EnqueueItem"], ["body", "event_types", 0]),  # a command, not an event
        (["command.CommandOutcomeRecorded"], ["body", "event_types", 0]),  # bookkeeping
        (["queue.ItemPublished", "queue.ItemPublished"], ["body", "event_types"]),
        ([], ["body", "event_types"]),
    ],
)
async def test_only_known_event_types_can_be_subscribed(
    api: TestClient[Any, Any], bearer: Headers, types: list[str], where: list[Any]
) -> None:
    body = {"url": HOOK, "event_types": types}
    resp = await api.post("/v1/webhooks", json=body, headers=bearer(scopes=SCOPES) | key())
    assert resp.status == 422, await resp.text()
    assert where in [e["loc"] for e in (await resp.json())["errors"]]


async def test_creating_needs_the_scope_and_an_idempotency_key(
    api: TestClient[Any, Any], bearer: Headers
) -> None:
    body = {"url": HOOK, "event_types": ["queue.ItemPublished"]}
    assert (
        await api.post("/v1/webhooks", json=body, headers=bearer(scopes="read") | key())
    ).status == 403
    assert (await api.post("/v1/webhooks", json=body, headers=bearer(scopes=SCOPES))).status == 400
    bad = await api.post(
        "/v1/webhooks",
        data=b"{",
        headers=bearer(scopes=SCOPES) | key() | {"Content-Type": "application/json"},
    )
    assert bad.status == 400


async def test_a_retry_with_the_same_key_answers_the_same_secret_and_another_body_is_refused(
    api: TestClient[Any, Any], bearer: Headers
) -> None:
    h = bearer(scopes=SCOPES) | key()
    body = {"url": HOOK, "event_types": ["queue.ItemPublished"]}
    first = await api.post("/v1/webhooks", json=body, headers=h)
    again = await api.post("/v1/webhooks", json=body, headers=h)
    assert first.status == again.status == 201
    a, b = await first.json(), await again.json()
    assert a == b and a["secret"].startswith("whsec_")
    assert first.headers["Location"] == f"/v1/webhooks/{a['id']}"
    other = await api.post("/v1/webhooks", json={**body, "description": "x"}, headers=h)
    assert other.status == 422


async def test_without_a_key_ring_creating_answers_503(
    client_factory: ClientFactory, bearer: Headers
) -> None:
    api = await client_factory(secret_key=None)
    body = {"url": HOOK, "event_types": ["queue.ItemPublished"]}
    resp = await api.post("/v1/webhooks", json=body, headers=bearer(scopes=SCOPES) | key())
    assert resp.status == 503


async def test_another_organization_gets_404_on_every_route(stack: Stack, bearer: Headers) -> None:
    mine = bearer(scopes=SCOPES)
    created = await subscribe(stack, mine, "http://127.0.0.1:9/hook")
    hook = created["id"]
    theirs = bearer(scopes=SCOPES, org="org-other")
    client = stack.client
    answers = [
        await client.get(f"/v1/webhooks/{hook}", headers=theirs),
        await client.get(f"/v1/webhooks/{hook}/deliveries", headers=theirs),
        await client.post(f"/v1/webhooks/{hook}/rotate-secret", headers=theirs),
        await client.post(
            f"/v1/webhooks/{hook}/replay", json={"since": "2026-01-01T00:00:00Z"}, headers=theirs
        ),
        await client.delete(f"/v1/webhooks/{hook}", headers=theirs),
    ]
    assert [a.status for a in answers] == [404] * 5
    listed = await (await client.get("/v1/webhooks", headers=theirs)).json()
    assert listed["items"] == []
    # Still there, untouched, for its own organization.
    own = await (await client.get(f"/v1/webhooks/{hook}", headers=mine)).json()
    assert own["status"] == "active" and own["secret_rotated_at"] is None
    unknown = uuid.uuid4()
    assert (await client.get(f"/v1/webhooks/{unknown}", headers=mine)).status == 404
    assert (await client.get("/v1/webhooks/not-a-uuid", headers=mine)).status == 404


async def test_a_deleted_subscription_is_shown_deleted_and_cannot_be_rotated(
    stack: Stack, bearer: Headers
) -> None:
    h = bearer(scopes=SCOPES)
    created = await subscribe(stack, h, "http://127.0.0.1:9/hook")
    hook = created["id"]
    ancient = {"since": "1900-01-01T00:00:00Z"}  # before Kafka's timestamps begin
    replay = await stack.client.post(f"/v1/webhooks/{hook}/replay", json=ancient, headers=h)
    assert replay.status == 202
    gone = await stack.client.delete(f"/v1/webhooks/{hook}", headers=h)
    assert gone.status == 202
    shown = await stack.eventually(
        f"/v1/webhooks/{hook}", h, lambda s, b: b.get("status") == "deleted"
    )
    assert shown["deleted_at"] is not None
    assert (await stack.client.post(f"/v1/webhooks/{hook}/rotate-secret", headers=h)).status == 404
    listed = await (await stack.client.get("/v1/webhooks?status=deleted", headers=h)).json()
    assert [i["id"] for i in listed["items"]] == [hook]
