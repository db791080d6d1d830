"""Cancel, reschedule, clips, projects, assets: checks before the log, envelopes on it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from schemas.envelope import Envelope
from schemas.ids import aggregate_id_for, command_id_for, command_id_on
from tests.integration.api.spaces import org_space
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
Reader = Callable[[], Awaitable[list[Envelope]]]
Factory = Callable[..., Awaitable[TestClient[Any, Any]]]
AssetFactory = Callable[..., Awaitable[uuid.UUID]]


async def add_item(db: asyncpg.Connection, status: str, org: str = "org-a") -> uuid.UUID:
    item_id = uuid.uuid4()
    now = datetime.now(UTC)
    await db.execute(
        "INSERT INTO queue_items (id, org_id, platform, title, status, schedule_at, timezone, "
        "created_at, updated_at, version) VALUES ($1, $2, 'x', 't', $3, $4, 'UTC', $4, $4, 1)",
        item_id,
        org,
        status,
        now,
    )
    return item_id


@pytest.mark.parametrize("status", ["scheduled", "retrying", "cancelled"])
async def test_cancelling_an_item_before_publishing_is_accepted(
    client: TestClient[Any, Any],
    bearer: Headers,
    db: asyncpg.Connection,
    read_commands: Reader,
    status: str,
) -> None:
    item_id = await add_item(db, status)
    resp = await client.post(
        f"/v1/queue/{item_id}/cancel", json={"reason": "changed my mind"}, headers=bearer()
    )
    assert resp.status == 202
    body = await resp.json()
    assert body["id"] == str(item_id)
    assert resp.headers["Location"] == f"/v1/queue/{item_id}"
    [envelope] = await read_commands()
    assert envelope.type == "queue.CancelItem"
    assert envelope.aggregate_id == item_id
    assert str(envelope.command_id) == body["command_id"]
    assert envelope.data == {"reason": "changed my mind"}


@pytest.mark.parametrize("status", ["publishing", "published", "failed"])
async def test_cancelling_an_item_that_is_publishing_or_done_is_a_409(
    client: TestClient[Any, Any],
    bearer: Headers,
    db: asyncpg.Connection,
    read_commands: Reader,
    status: str,
) -> None:
    item_id = await add_item(db, status)
    resp = await client.post(f"/v1/queue/{item_id}/cancel", headers=bearer())
    assert resp.status == 409
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["item_status"] == status
    assert await read_commands() == []


async def test_a_cancel_without_a_body_and_with_a_key_is_deterministic(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    item_id = await add_item(db, "scheduled")
    headers = bearer() | {"Idempotency-Key": "cancel-once"}
    first = await client.post(f"/v1/queue/{item_id}/cancel", headers=headers)
    second = await client.post(f"/v1/queue/{item_id}/cancel", headers=headers)
    assert first.status == second.status == 202
    assert (await first.json())["command_id"] == str(command_id_on("org-a", "cancel-once", item_id))
    assert await first.json() == await second.json()


async def test_one_idempotency_key_used_on_two_items_makes_two_commands(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection, read_commands: Reader
) -> None:
    first_item, second_item = await add_item(db, "scheduled"), await add_item(db, "scheduled")
    headers = bearer() | {"Idempotency-Key": "tidy-up"}
    first = await client.post(f"/v1/queue/{first_item}/cancel", headers=headers)
    second = await client.post(f"/v1/queue/{second_item}/cancel", headers=headers)
    assert first.status == second.status == 202
    first_id, second_id = (await first.json())["command_id"], (await second.json())["command_id"]
    assert first_id != second_id
    envelopes = await read_commands()
    assert {(str(e.command_id), e.aggregate_id) for e in envelopes} == {
        (first_id, first_item),
        (second_id, second_item),
    }
    # The key of a creating command names another command than the same key on an item.
    assert command_id_for("org-a", "tidy-up") not in {e.command_id for e in envelopes}


async def test_one_key_reused_on_the_same_item_with_another_body_is_a_422(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection, read_commands: Reader
) -> None:
    item_id = await add_item(db, "scheduled")
    headers = bearer() | {"Idempotency-Key": "move-it"}
    url = f"/v1/queue/{item_id}/reschedule"
    first = await client.post(url, json={"schedule_at": "2031-01-01T10:00:00Z"}, headers=headers)
    assert first.status == 202
    other = await client.post(url, json={"schedule_at": "2031-01-02T10:00:00Z"}, headers=headers)
    assert other.status == 422
    assert (await other.json())["type"] == "urn:wavestack:problem:idempotency-key-reused"
    assert len(await read_commands()) == 1


async def test_an_item_enqueued_a_moment_ago_can_be_cancelled_before_it_is_projected(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader
) -> None:
    enqueue = await client.post(
        "/v1/queue",
        json={"platform": "x", "title": "oops"},
        headers=bearer() | {"Idempotency-Key": "early"},
    )
    item_id = (await enqueue.json())["id"]
    cancel = await client.post(f"/v1/queue/{item_id}/cancel", headers=bearer())
    assert cancel.status == 202
    other_org = await client.post(f"/v1/queue/{item_id}/cancel", headers=bearer(org="org-b"))
    assert other_org.status == 404
    types = [e.type for e in await read_commands()]
    assert types == ["queue.EnqueueItem", "queue.CancelItem"]


async def test_an_item_known_only_from_its_pending_command_can_be_cancelled(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    command_id = command_id_for("org-a", "from-another-api-process")
    item_id = aggregate_id_for(command_id)
    await db.execute(
        "INSERT INTO commands (command_id, org_id, type, aggregate_type, aggregate_id, "
        "fingerprint, requested_at) VALUES ($1, 'org-a', 'queue.EnqueueItem', 'queue_item', $2, "
        "'f', now())",
        command_id,
        item_id,
    )
    assert (await client.post(f"/v1/queue/{item_id}/cancel", headers=bearer())).status == 202
    unknown = await client.post(f"/v1/queue/{uuid.uuid4()}/cancel", headers=bearer())
    assert unknown.status == 404


async def test_rescheduling_needs_an_offset_and_a_reschedulable_item(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection, read_commands: Reader
) -> None:
    scheduled = await add_item(db, "scheduled")
    published = await add_item(db, "published")
    when = "2031-02-03T04:05:06+01:00"
    naive = await client.post(
        f"/v1/queue/{scheduled}/reschedule",
        json={"schedule_at": "2031-02-03T04:05:06"},
        headers=bearer(),
    )
    assert naive.status == 422
    assert (await naive.json())["errors"][0]["loc"] == ["body", "schedule_at"]
    empty = await client.post(f"/v1/queue/{scheduled}/reschedule", headers=bearer())
    assert empty.status == 415
    done = await client.post(
        f"/v1/queue/{published}/reschedule", json={"schedule_at": when}, headers=bearer()
    )
    assert done.status == 409
    ok = await client.post(
        f"/v1/queue/{scheduled}/reschedule", json={"schedule_at": when}, headers=bearer()
    )
    assert ok.status == 202
    [envelope] = await read_commands()
    assert envelope.type == "queue.RescheduleItem"
    assert envelope.data == {"schedule_at": when}


async def test_create_project_register_asset_and_request_clip_produce_their_commands(
    client: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    settings: Settings,
    add_asset: AssetFactory,
) -> None:
    (org_space(settings) / "uploads").mkdir()
    (org_space(settings) / "uploads" / "talk.mp4").write_bytes(b"not probed here")
    asset_id = await add_asset("in/source.mp4")
    for path, body, location in (
        ("/v1/projects", {"name": "Launch"}, "/v1/projects/"),
        ("/v1/assets", {"path": "uploads/talk.mp4", "kind": "video"}, "/v1/assets/"),
        (
            "/v1/clips",
            {
                "source": {"asset_id": str(asset_id)},
                "start": 12,
                "duration": 45,
                "mode": "accurate",
                "aspect": "9:16",
            },
            "/v1/clips/",
        ),
    ):
        resp = await client.post(path, json=body, headers=bearer() | {"Idempotency-Key": path})
        assert resp.status == 202, await resp.text()
        assert resp.headers["Location"].startswith(location)
    envelopes = await read_commands()
    assert sorted(e.type for e in envelopes) == [
        "asset.RegisterAsset",
        "clip.RequestClip",
        "project.CreateProject",
    ]
    clip = next(e for e in envelopes if e.type == "clip.RequestClip")
    assert clip.data == {
        "source": {"asset_id": str(asset_id)},
        "start": 12.0,
        "duration": 45.0,
        "mode": "accurate",
        "aspect": "9:16",
        "resolved_source": {
            "asset_id": str(asset_id),
            "path": "in/source.mp4",
            "sha256": "ab" * 32,
        },
    }
    assert clip.aggregate_type == "clip"
    asset = next(e for e in envelopes if e.type == "asset.RegisterAsset")
    assert asset.data == {"path": "uploads/talk.mp4", "kind": "video"}


async def test_each_command_route_needs_its_own_scope(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    headers = bearer(scopes="queue:write read") | {"Idempotency-Key": "scoped"}
    assert (await client.post("/v1/projects", json={"name": "p"}, headers=headers)).status == 403
    assert (await client.post("/v1/assets", json={"path": "a"}, headers=headers)).status == 403
    clip = {"source": {"path": "a.mp4"}, "start": 0, "duration": 1}
    assert (await client.post("/v1/clips", json=clip, headers=headers)).status == 403


async def test_an_organization_over_its_rate_gets_429_with_retry_after(
    client_factory: Factory, bearer: Headers
) -> None:
    client = await client_factory(rate_limit_per_second=0.5, rate_limit_burst=2)
    item = {"platform": "x", "title": "t"}
    statuses = []
    for i in range(3):
        resp = await client.post(
            "/v1/queue", json=item, headers=bearer() | {"Idempotency-Key": f"r{i}"}
        )
        statuses.append(resp.status)
    assert statuses == [202, 202, 429]
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.content_type == "application/problem+json"
    other_org = await client.post(
        "/v1/queue", json=item, headers=bearer(org="org-b") | {"Idempotency-Key": "r"}
    )
    assert other_org.status == 202
