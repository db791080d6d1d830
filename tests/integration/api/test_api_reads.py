"""Read endpoints over rows put straight into the test's read-model schema."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

Headers = Callable[..., dict[str, str]]
NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


async def add_item(
    db: asyncpg.Connection,
    org: str = "org-a",
    status: str = "scheduled",
    platform: str = "youtube",
    project_id: uuid.UUID | None = None,
) -> uuid.UUID:
    item_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO queue_items (id, org_id, project_id, platform, title, status, schedule_at, "
        "timezone, target, created_at, updated_at, version) "
        "VALUES ($1, $2, $3, $4, 'title', $5, $6, 'Europe/Paris', $7::jsonb, $6, $6, 1)",
        item_id,
        org,
        project_id,
        platform,
        status,
        NOW,
        json.dumps({"privacy": "unlisted"}),
    )
    return item_id


async def get_json(client: TestClient[Any, Any], url: str, headers: dict[str, str]) -> Any:
    resp = await client.get(url, headers=headers)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_queue_pages_through_every_item_of_the_org_exactly_once(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    mine = {await add_item(db) for _ in range(7)}
    for _ in range(2):
        await add_item(db, org="org-b")
    seen: list[str] = []
    url = "/v1/queue?limit=3"
    pages = 0
    while url:
        page = await get_json(client, url, bearer())
        pages += 1
        assert len(page["items"]) <= 3
        seen.extend(item["id"] for item in page["items"])
        url = f"/v1/queue?limit=3&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert pages == 3
    assert seen == sorted(str(i) for i in mine)


async def test_queue_filters_by_status_platform_and_project(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    project = uuid.uuid4()
    cancelled = await add_item(db, status="cancelled")
    tiktok = await add_item(db, platform="tiktok", project_id=project)
    await add_item(db)
    by_status = await get_json(client, "/v1/queue?status=cancelled", bearer())
    assert [i["id"] for i in by_status["items"]] == [str(cancelled)]
    by_platform = await get_json(client, "/v1/queue?platform=tiktok", bearer())
    assert [i["id"] for i in by_platform["items"]] == [str(tiktok)]
    by_project = await get_json(client, f"/v1/queue?project_id={project}", bearer())
    assert [i["id"] for i in by_project["items"]] == [str(tiktok)]
    assert by_project["next_cursor"] is None


async def test_one_queue_item_shows_its_fields(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    item_id = await add_item(db)
    item = await get_json(client, f"/v1/queue/{item_id}", bearer())
    assert item["status"] == "scheduled"
    assert item["timezone"] == "Europe/Paris"
    assert item["target"] == {"privacy": "unlisted"}
    assert datetime.fromisoformat(item["schedule_at"]) == NOW
    missing = await client.get(f"/v1/queue/{uuid.uuid4()}", headers=bearer())
    assert missing.status == 404


async def test_a_command_outcome_is_shown_with_reason_and_event_ids(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    applied, rejected, events = uuid.uuid4(), uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    for command_id, outcome, reason, status, ids in (
        (applied, "applied", None, None, events),
        (rejected, "rejected", "a published item cannot be cancelled", 409, []),
    ):
        await db.execute(
            "INSERT INTO commands (command_id, org_id, type, aggregate_type, aggregate_id, "
            "fingerprint, outcome, reason, status, event_ids, requested_at, decided_at) "
            "VALUES ($1, 'org-a', 'queue.CancelItem', 'queue_item', $2, 'f', $3, $4, $5, $6, "
            "$7, $7)",
            command_id,
            uuid.uuid4(),
            outcome,
            reason,
            status,
            ids,
            NOW,
        )
    ok = await get_json(client, f"/v1/commands/{applied}", bearer())
    assert ok["outcome"] == "applied"
    assert ok["event_ids"] == [str(e) for e in events]
    no = await get_json(client, f"/v1/commands/{rejected}", bearer())
    assert (no["outcome"], no["status"], no["reason"]) == (
        "rejected",
        409,
        "a published item cannot be cancelled",
    )
    other_org = await client.get(f"/v1/commands/{applied}", headers=bearer(org="org-b"))
    assert other_org.status == 404
    unknown = await client.get(f"/v1/commands/{uuid.uuid4()}", headers=bearer())
    assert unknown.status == 404


async def test_projects_assets_clips_and_posts_are_listed_and_shown_per_org(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    project, asset, clip, post = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await db.execute("INSERT INTO projects VALUES ($1, 'org-a', 'Launch', $2, $2, 1)", project, NOW)
    await db.execute(
        "INSERT INTO assets (id, org_id, project_id, path, kind, created_at, updated_at, version,"
        " probe) VALUES ($1, 'org-a', $2, 'in/a.mp4', 'video', $3, $3, 1, '{\"streams\": 2}')",
        asset,
        project,
        NOW,
    )
    await db.execute(
        "INSERT INTO clips (id, org_id, source_asset_id, start_s, duration_s, format, mode, "
        "aspect, status, created_at, updated_at, version) "
        "VALUES ($1, 'org-a', $2, 5, 10, 'mp4', 'fast', '9:16', 'running', $3, $3, 2)",
        clip,
        asset,
        NOW,
    )
    # `posts` is a view: a post row plus its item's platform.
    item = uuid.uuid4()
    await db.execute(
        "INSERT INTO queue_items (id, org_id, platform, title, status, schedule_at, timezone,"
        " created_at, updated_at, version) VALUES"
        " ($1, 'org-a', 'youtube', 'a video', 'published', $2, 'UTC', $2, $2, 3)",
        item,
        NOW,
    )
    await db.execute(
        "INSERT INTO post_rows VALUES ($1, 'org-a', $2, 1, 'yt-123', 'https://y/1', $3, 1)",
        post,
        item,
        NOW,
    )
    for path, row_id, field, value in (
        ("projects", project, "name", "Launch"),
        ("assets", asset, "probe", {"streams": 2}),
        ("clips", clip, "status", "running"),
        ("posts", post, "platform_post_id", "yt-123"),
    ):
        listed = await get_json(client, f"/v1/{path}", bearer())
        assert [r["id"] for r in listed["items"]] == [str(row_id)], path
        shown = await get_json(client, f"/v1/{path}/{row_id}", bearer())
        assert shown[field] == value, path
        assert (await client.get(f"/v1/{path}/{row_id}", headers=bearer(org="org-b"))).status == 404
        other = await get_json(client, f"/v1/{path}", bearer(org="org-b"))
        assert other["items"] == [], path
    filtered = await get_json(client, "/v1/clips?status=failed", bearer())
    assert filtered["items"] == []
    by_kind = await get_json(client, "/v1/assets?kind=video", bearer())
    assert len(by_kind["items"]) == 1


async def add_event(
    db: asyncpg.Connection,
    aggregate: uuid.UUID,
    seq: int,
    kind: str,
    at: datetime,
    org: str = "org-a",
) -> uuid.UUID:
    event_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO events (id, org_id, type, version, aggregate_type, aggregate_id, sequence, "
        "occurred_at, command_id, correlation_id, causation_id, actor, data) "
        "VALUES ($1, $2, $3, 1, 'queue_item', $4, $5, $6, $7, $7, $7, $8::jsonb, '{}'::jsonb)",
        event_id,
        org,
        kind,
        aggregate,
        seq,
        at,
        uuid.uuid4(),
        json.dumps({"sub": "alice", "kind": "user"}),
    )
    return event_id


async def test_audit_pages_by_position_and_filters(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    order = [
        await add_event(db, a, 1, "queue.ItemEnqueued", NOW),
        await add_event(db, b, 1, "queue.ItemEnqueued", NOW + timedelta(minutes=1)),
        await add_event(db, a, 2, "queue.ItemCancelled", NOW + timedelta(minutes=2)),
    ]
    await add_event(db, uuid.uuid4(), 1, "queue.ItemEnqueued", NOW, org="org-b")
    audit = bearer(scopes="audit:read")
    first = await get_json(client, "/v1/audit?limit=2", audit)
    rest = await get_json(client, f"/v1/audit?limit=2&cursor={first['next_cursor']}", audit)
    assert [e["id"] for e in first["items"] + rest["items"]] == [str(e) for e in order]
    assert rest["next_cursor"] is None
    positions = [e["position"] for e in first["items"] + rest["items"]]
    assert positions == sorted(positions)
    of_a = await get_json(client, f"/v1/audit?aggregate_id={a}", audit)
    assert [e["sequence"] for e in of_a["items"]] == [1, 2]
    cancels = await get_json(client, "/v1/audit?type=queue.ItemCancelled", audit)
    assert [e["id"] for e in cancels["items"]] == [str(order[2])]
    since = (NOW + timedelta(seconds=30)).isoformat()
    everything = await get_json(client, "/v1/audit", audit)
    assert len(everything["items"]) == 3  # not org-b's
    later = await client.get("/v1/audit", params={"since": since}, headers=audit)
    assert [e["id"] for e in (await later.json())["items"]] == [str(e) for e in order[1:]]
    naive = await client.get("/v1/audit", params={"since": "2030-05-01T12:00:00"}, headers=audit)
    assert naive.status == 422


async def test_a_tampered_cursor_is_a_422(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    for _ in range(3):
        await add_item(db)
    page = await get_json(client, "/v1/queue?limit=1", bearer())
    assert page["next_cursor"]
    resp = await client.get(f"/v1/queue?cursor={page['next_cursor']}x", headers=bearer())
    assert resp.status == 422
    audit_cursor = await client.get(
        f"/v1/audit?cursor={page['next_cursor']}", headers=bearer(scopes="audit:read")
    )
    assert audit_cursor.status == 422  # a queue cursor is no audit position
