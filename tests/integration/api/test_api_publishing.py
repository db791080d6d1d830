"""The queue's publishing side over HTTP: connections on POST /v1/queue, the schedule's
offset rule, retry, and the reads (attempts, post, overdue, schedule order and range)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from schemas.envelope import Envelope
from vault import keytable
from vault.keyring import KeyRing, generate_entry
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
Reader = Callable[[], Awaitable[list[Envelope]]]
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]

SCOPES = "connections:write queue:write read"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def app(
    client_factory: ClientFactory, settings: Settings
) -> AsyncIterator[TestClient[Any, Any]]:
    yield await client_factory(secret_key=generate_entry("k1"))
    conn = await asyncpg.connect(settings.dsn)
    try:
        await conn.execute(
            f'DROP SCHEMA IF EXISTS "{keytable.key_schema(settings.db_schema)}" CASCADE'
        )
    finally:
        await conn.close()


def h(bearer: Headers, key: str | None = None, **claims: Any) -> dict[str, str]:
    base = bearer(scopes=SCOPES, **claims)
    return base | {"Idempotency-Key": key} if key else base


async def store_connection(
    db: asyncpg.Connection, settings: Settings, platform: str, org: str = "org-a"
) -> str:
    """A key row as POST /v1/connections leaves it (sealed under a throwaway ring)."""
    connection_id = str(uuid.uuid4())
    ring = KeyRing.parse(generate_entry("t"))
    await keytable.create_table(db, settings.db_schema)
    wrapped, sealed = keytable.seal_new(ring, org, connection_id, {"access_token": "t"})
    row = keytable.StoredConnection(connection_id, org, platform, wrapped, sealed)
    assert await keytable.store(db, settings.db_schema, row)
    return connection_id


async def add_item(
    db: asyncpg.Connection,
    *,
    status: str = "scheduled",
    schedule_at: datetime = NOW,
    due_at: datetime | None = None,
    org: str = "org-a",
) -> uuid.UUID:
    item_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO queue_items (id, org_id, platform, title, status, schedule_at, timezone, "
        "created_at, updated_at, version, due_at) "
        "VALUES ($1, $2, 'webhook', 't', $3, $4, 'UTC', $4, $4, 1, $5)",
        item_id,
        org,
        status,
        schedule_at,
        due_at,
    )
    return item_id


async def errors_of(resp: Any) -> list[list[Any]]:
    return [e["loc"] for e in (await resp.json()).get("errors", [])]


async def test_queue_with_a_connection_fills_its_platform_and_the_local_schedule_text(
    app: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    connection_id = await store_connection(db, settings, "webhook")
    local = "2031-07-01T09:30:00+02:00"
    body = {
        "platform": "webhook",
        "title": "Launch",
        "connection_id": connection_id,
        "schedule_at": local,
        "timezone": "Europe/Paris",
    }
    resp = await app.post("/v1/queue", json=body, headers=h(bearer, "q1"))
    assert resp.status == 202, await resp.text()
    [envelope] = await read_commands()
    assert envelope.data["connection_platform"] == "webhook"
    assert envelope.data["schedule_local"] == local
    assert envelope.data["connection_id"] == connection_id


async def test_queue_with_a_connection_of_another_platform_is_422_on_connection_id(
    app: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    connection_id = await store_connection(db, settings, "discord")
    body = {"platform": "webhook", "title": "t", "connection_id": connection_id}
    resp = await app.post("/v1/queue", json=body, headers=h(bearer, "q2"))
    assert resp.status == 422
    assert ["body", "connection_id"] in await errors_of(resp)
    assert await read_commands() == []


async def test_queue_with_another_organizations_or_an_unknown_connection_is_404(
    app: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    theirs = await store_connection(db, settings, "webhook", org="org-b")
    for n, connection_id in enumerate((theirs, str(uuid.uuid4()))):
        body = {"platform": "webhook", "title": "t", "connection_id": connection_id}
        resp = await app.post("/v1/queue", json=body, headers=h(bearer, f"q3-{n}"))
        assert resp.status == 404
        assert ["body", "connection_id"] in await errors_of(resp)
    assert await read_commands() == []


@pytest.mark.parametrize("field", ["connection_platform", "schedule_local"])
async def test_server_filled_queue_fields_sent_by_a_client_are_refused(
    app: TestClient[Any, Any], bearer: Headers, read_commands: Reader, field: str
) -> None:
    body = {"platform": "webhook", "title": "t", field: "webhook"}
    resp = await app.post("/v1/queue", json=body, headers=h(bearer, "q4"))
    assert resp.status == 422
    assert await errors_of(resp) == [["body", field]]
    assert await read_commands() == []


@pytest.mark.parametrize(
    ("schedule_at", "timezone", "status"),
    [
        ("2031-07-01T09:00:00+01:00", "Europe/Paris", 422),  # Paris is +02:00 in July
        ("2031-01-10T09:00:00+02:00", "Europe/Paris", 422),  # ...and +01:00 in January
        ("2031-07-01T09:00:00+02:00", "Europe/Paris", 202),
        ("2031-07-01T07:00:00Z", "Europe/Paris", 202),  # UTC names the instant only
        ("2031-07-01T09:00:00-04:00", "America/New_York", 202),
    ],
)
async def test_a_schedule_offset_that_contradicts_the_time_zone_is_422_on_schedule_at(
    app: TestClient[Any, Any], bearer: Headers, schedule_at: str, timezone: str, status: int
) -> None:
    body = {"platform": "webhook", "title": "t", "schedule_at": schedule_at, "timezone": timezone}
    resp = await app.post("/v1/queue", json=body, headers=h(bearer, f"tz-{schedule_at}"))
    assert resp.status == status, await resp.text()
    if status == 422:
        assert await errors_of(resp) == [["body", "schedule_at"]]


async def test_retry_sends_retry_item_for_a_failed_item(
    app: TestClient[Any, Any], bearer: Headers, read_commands: Reader, db: asyncpg.Connection
) -> None:
    item_id = await add_item(db, status="failed")
    resp = await app.post(f"/v1/queue/{item_id}/retry", headers=h(bearer))
    assert resp.status == 202, await resp.text()
    later = {"schedule_at": "2031-01-01T00:00:00Z"}
    keyed = await app.post(f"/v1/queue/{item_id}/retry", json=later, headers=h(bearer, "r1"))
    assert keyed.status == 202
    envelopes = await read_commands()
    assert [e.type for e in envelopes] == ["queue.RetryItem", "queue.RetryItem"]
    assert {str(e.aggregate_id) for e in envelopes} == {str(item_id)}
    assert envelopes[1].data == later


@pytest.mark.parametrize("status", ["published", "cancelled"])
async def test_retrying_a_published_or_cancelled_item_is_409(
    app: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    db: asyncpg.Connection,
    status: str,
) -> None:
    item_id = await add_item(db, status=status)
    resp = await app.post(f"/v1/queue/{item_id}/retry", headers=h(bearer))
    assert resp.status == 409
    assert (await resp.json())["item_status"] == status
    assert await read_commands() == []


async def test_other_organizations_items_are_404_on_retry_and_reads(
    app: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    item_id = await add_item(db, status="failed", org="org-b")
    assert (await app.post(f"/v1/queue/{item_id}/retry", headers=h(bearer))).status == 404
    assert (await app.get(f"/v1/queue/{item_id}", headers=h(bearer))).status == 404
    for path in ("/v1/connections", "/v1/posts"):
        assert (await app.get(f"{path}/{uuid.uuid4()}", headers=h(bearer))).status == 404


async def test_mark_published_sends_the_operators_finding_for_an_unconfirmed_item(
    app: TestClient[Any, Any], bearer: Headers, read_commands: Reader, db: asyncpg.Connection
) -> None:
    item_id = await add_item(db, status="unconfirmed")
    found = {"post_id": "1234", "url": "https://discord.com/channels/1/2/1234"}
    resp = await app.post(f"/v1/queue/{item_id}/mark-published", json=found, headers=h(bearer))
    assert resp.status == 202, await resp.text()
    [envelope] = await read_commands()
    assert (envelope.type, envelope.data) == ("queue.MarkPublished", found)


@pytest.mark.parametrize(
    ("status", "org", "body", "answer"),
    [
        ("scheduled", "org-a", {"post_id": "1"}, 409),
        ("failed", "org-a", {"post_id": "1"}, 409),
        ("unconfirmed", "org-b", {"post_id": "1"}, 404),
        ("unconfirmed", "org-a", {"post_id": ""}, 422),
        ("unconfirmed", "org-a", {"post_id": "1", "url": "javascript:alert(1)"}, 422),
    ],
)
async def test_mark_published_is_refused_unless_unconfirmed_in_the_callers_org(
    app: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    db: asyncpg.Connection,
    status: str,
    org: str,
    body: dict[str, str],
    answer: int,
) -> None:
    item_id = await add_item(db, status=status, org=org)
    resp = await app.post(f"/v1/queue/{item_id}/mark-published", json=body, headers=h(bearer))
    assert resp.status == answer, await resp.text()
    assert await read_commands() == []


async def test_the_overdue_filter_lists_only_items_due_over_a_minute_ago_not_fired(
    app: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)  # not the module's NOW: a long run would age it past 60 s
    old = now - timedelta(minutes=5)
    overdue = await add_item(db, schedule_at=old, due_at=old)
    retrying = await add_item(
        db, status="retrying", schedule_at=old, due_at=now - timedelta(minutes=2)
    )
    await add_item(db, schedule_at=now - timedelta(seconds=20), due_at=now - timedelta(seconds=20))
    await add_item(db, status="retrying", schedule_at=old, due_at=now + timedelta(minutes=1))
    await add_item(db, status="published", schedule_at=old)
    await add_item(db, schedule_at=old, due_at=old, org="org-b")
    resp = await app.get("/v1/queue?overdue=true", headers=h(bearer))
    assert resp.status == 200
    # Both scheduled for the same instant: the list orders them by id.
    expected = sorted([str(overdue), str(retrying)])
    assert [i["id"] for i in (await resp.json())["items"]] == expected

    metrics = await (await app.get("/metrics")).text()
    assert 'wavestack_queue_overdue_items{platform="webhook"} 3.0' in metrics
    assert 'wavestack_queue_overdue_items{platform="youtube"} 0.0' in metrics


async def test_queue_lists_in_schedule_order_and_filter_by_a_schedule_range(
    app: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    times = [NOW + timedelta(hours=n) for n in (3, 1, 2, 0, 4)]
    ids = {t: await add_item(db, schedule_at=t) for t in times}
    in_order = [str(ids[t]) for t in sorted(times)]
    seen: list[str] = []
    url: str | None = "/v1/queue?limit=2"
    while url:
        page = await (await app.get(url, headers=h(bearer))).json()
        seen += [i["id"] for i in page["items"]]
        url = f"/v1/queue?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else None
    assert seen == in_order
    params = {
        "schedule_from": (NOW + timedelta(hours=1)).isoformat(),
        "schedule_to": (NOW + timedelta(hours=3)).isoformat(),
    }
    ranged = await (await app.get("/v1/queue", params=params, headers=h(bearer))).json()
    assert [i["id"] for i in ranged["items"]] == in_order[1:3]
    naive = await app.get("/v1/queue?schedule_from=2031-01-01T00:00:00", headers=h(bearer))
    assert naive.status == 422


async def test_one_item_shows_its_attempts_and_its_post(
    app: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    item_id = await add_item(db, status="published")
    for n, outcome in ((1, "failed"), (2, "published")):
        await db.execute(
            "INSERT INTO publish_attempts (id, org_id, item_id, attempt, attempt_id, adapter, "
            "fingerprint, outcome, started_at, finished_at, error_class, platform_status, "
            "summary, next_attempt_at, created_at, updated_at, version) VALUES ($1, 'org-a', $2, "
            "$3, $4, 'webhook', 'fp', $5, $6, $6, $7, $8, $9, $10, $6, $6, 1)",
            uuid.uuid4(),
            item_id,
            n,
            f"att-{n}",
            outcome,
            NOW,
            "transient" if n == 1 else None,
            503 if n == 1 else None,
            "server error" if n == 1 else None,
            NOW + timedelta(seconds=5) if n == 1 else None,
        )
    await db.execute(
        "INSERT INTO post_rows (id, org_id, queue_item_id, attempt, platform_post_id, url, "
        "published_at, version) VALUES ($1, 'org-a', $2, 2, 'p-77', 'https://x.example/p-77', "
        "$3, 1)",
        uuid.uuid4(),
        item_id,
        NOW,
    )
    resp = await app.get(f"/v1/queue/{item_id}", headers=h(bearer))
    assert resp.status == 200, await resp.text()
    item = await resp.json()
    history = item["attempt_history"]
    assert [(a["attempt"], a["outcome"]) for a in history] == [(1, "failed"), (2, "published")]
    assert (history[0]["error_class"], history[0]["platform_status"]) == ("transient", 503)
    assert history[0]["next_attempt_at"] is not None
    assert item["post"]["platform_post_id"] == "p-77"
    assert item["post"]["url"] == "https://x.example/p-77"
    posts = await (await app.get("/v1/posts", headers=h(bearer))).json()
    assert [p["queue_item_id"] for p in posts["items"]] == [str(item_id)]
    assert posts["items"][0]["platform"] == "webhook"
    one = await app.get(f"/v1/posts/{posts['items'][0]['id']}", headers=h(bearer))
    assert (await one.json())["attempt"] == 2


async def test_an_offset_without_a_named_time_zone_is_accepted_and_kept_as_local_text(
    app: TestClient[Any, Any], bearer: Headers, read_commands: Reader
) -> None:
    body = {"platform": "webhook", "title": "t", "schedule_at": "2031-07-01T09:00:00+05:30"}
    resp = await app.post("/v1/queue", json=body, headers=h(bearer, "no-zone"))
    assert resp.status == 202
    [envelope] = await read_commands()
    assert envelope.data["schedule_local"] == "2031-07-01T09:00:00+05:30"
    assert "timezone" not in envelope.data


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "POST",
            "/v1/queue",
            {"platform": "x", "title": "t", "schedule_at": "0001-01-01T00:30:00+00:30",
             "timezone": "America/New_York"},
        ),
        ("POST", "/v1/queue", {"platform": "x", "title": "t", "connection_id": "not-a-uuid"}),
        ("POST", "/v1/queue/not-a-uuid/retry", {}),
        ("POST", "/v1/queue/7d0c3f7e-0000-4000-8000-000000000000/retry", {"schedule_at": "x"}),
        ("POST", "/v1/connections", {"platform": "youtube", "name": "y", "credentials": {
            f: "\U0001f600" * 2000
            for f in ("access_token", "refresh_token", "client_id", "client_secret")}}),
        ("POST", "/v1/connections", {"platform": "webhook", "name": "w", "credentials": {
            "url": "https://[::1", "secret": "whsec_"}}),
        ("POST", "/v1/connections", {"platform": "x", "name": "\x00", "credentials": {}}),
        ("DELETE", "/v1/connections/not-a-uuid", None),
        ("GET", "/v1/queue?overdue=maybe", None),
        ("GET", "/v1/queue?schedule_to=yesterday", None),
        ("GET", "/v1/connections?status=gone", None),
    ],
)  # fmt: skip
async def test_odd_publishing_requests_are_answered_4xx_never_500(
    app: TestClient[Any, Any],
    bearer: Headers,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    resp = await app.request(method, path, json=body, headers=h(bearer, "odd"))
    assert 400 <= resp.status < 500, await resp.text()
    assert "\U0001f600" * 10 not in await resp.text()
