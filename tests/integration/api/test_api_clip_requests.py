"""POST /v1/clips: the source resolved from the read model, checked against the asset."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from schemas.commands import RequestClip
from schemas.envelope import Envelope
from schemas.ids import aggregate_id_for, command_id_for
from tests.integration.api.spaces import org_space
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
Reader = Callable[[], Awaitable[list[Envelope]]]
AssetFactory = Callable[..., Awaitable[uuid.UUID]]

SHA = "0123456789abcdef" * 4


def clip_of(asset_id: uuid.UUID, **more: Any) -> dict[str, Any]:
    return {"source": {"asset_id": str(asset_id)}, "start": 10, "duration": 20, **more}


def new_key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def test_a_clip_of_an_asset_carries_the_assets_path_and_digest(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader, add_asset: AssetFactory
) -> None:
    asset_id = await add_asset("library/talk.mp4", sha256=SHA)
    resp = await client.post(
        "/v1/clips", json=clip_of(asset_id, title="Best bit"), headers=bearer() | new_key()
    )
    assert resp.status == 202, await resp.text()
    body = await resp.json()
    assert resp.headers["Location"] == f"/v1/clips/{body['id']}"
    [envelope] = await read_commands()
    assert str(envelope.aggregate_id) == body["id"]
    command = RequestClip.model_validate(envelope.data)
    assert command.resolved_source is not None
    assert command.resolved_source.asset_id == asset_id
    assert command.resolved_source.path == "library/talk.mp4"
    assert command.resolved_source.sha256 == SHA


async def test_the_same_key_and_body_twice_answers_the_same_ids_and_produces_once(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader, add_asset: AssetFactory
) -> None:
    asset_id = await add_asset()
    headers = bearer() | {"Idempotency-Key": "clip-once"}
    first = await client.post("/v1/clips", json=clip_of(asset_id), headers=headers)
    second = await client.post("/v1/clips", json=clip_of(asset_id), headers=headers)
    assert first.status == second.status == 202
    command_id = command_id_for("org-a", "clip-once")
    assert await first.json() == await second.json()
    assert (await first.json())["id"] == str(aggregate_id_for(command_id))
    other = await client.post("/v1/clips", json=clip_of(asset_id, duration=5), headers=headers)
    assert other.status == 422
    assert (await other.json())["type"] == "urn:wavestack:problem:idempotency-key-reused"
    assert [e.command_id for e in await read_commands()] == [command_id]


@pytest.mark.parametrize("owner", ["org-b", None])
async def test_an_asset_of_another_organization_or_none_at_all_is_a_404(
    client: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    add_asset: AssetFactory,
    owner: str | None,
) -> None:
    asset_id = await add_asset(org=owner) if owner else uuid.uuid4()
    resp = await client.post("/v1/clips", json=clip_of(asset_id), headers=bearer() | new_key())
    assert resp.status == 404
    problem = await resp.json()
    assert problem["type"] == "urn:wavestack:problem:not-found"
    assert str(asset_id) in problem["detail"]
    assert problem["errors"][0]["loc"] == ["body", "source", "asset_id"]
    assert await read_commands() == []


@pytest.mark.parametrize("status", ["probing", "failed"])
async def test_an_asset_that_is_not_registered_is_a_409_saying_its_status(
    client: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    add_asset: AssetFactory,
    status: str,
) -> None:
    asset_id = await add_asset(status=status, duration_s=None, sha256=None)
    resp = await client.post("/v1/clips", json=clip_of(asset_id), headers=bearer() | new_key())
    assert resp.status == 409
    problem = await resp.json()
    assert problem["asset_status"] == status
    assert f"status {status}" in problem["detail"]
    assert await read_commands() == []


async def test_an_asset_registered_a_moment_ago_is_a_409_until_it_is_probed(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader, settings: Settings
) -> None:
    (org_space(settings) / "fresh.mp4").write_bytes(b"x")
    registered = await client.post(
        "/v1/assets", json={"path": "fresh.mp4"}, headers=bearer() | new_key()
    )
    asset_id = uuid.UUID((await registered.json())["id"])
    resp = await client.post("/v1/clips", json=clip_of(asset_id), headers=bearer() | new_key())
    assert resp.status == 409
    assert (await resp.json())["asset_status"] == "pending"
    other_org = await client.post(
        "/v1/clips", json=clip_of(asset_id), headers=bearer(org="org-b") | new_key()
    )
    assert other_org.status == 404
    assert [e.type for e in await read_commands()] == ["asset.RegisterAsset"]


@pytest.mark.parametrize(
    ("range_", "field"),
    [
        ({"start": 60, "duration": 5}, "start"),
        ({"start": 75.5, "duration": 5}, "start"),
        ({"start": 50, "duration": 20}, "duration"),
        ({"start": 50, "end": 61}, "end"),
    ],
)
async def test_a_range_beyond_the_assets_duration_is_a_422_naming_the_field(
    client: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    add_asset: AssetFactory,
    range_: dict[str, float],
    field: str,
) -> None:
    asset_id = await add_asset(duration_s=60.0)
    body = {"source": {"asset_id": str(asset_id)}, **range_}
    resp = await client.post("/v1/clips", json=body, headers=bearer() | new_key())
    assert resp.status == 422
    [error] = (await resp.json())["errors"]
    assert error["loc"] == ["body", field]
    assert "60.000 s long" in error["msg"]
    assert await read_commands() == []


async def test_a_range_up_to_the_very_end_of_the_asset_is_accepted(
    client: TestClient[Any, Any], bearer: Headers, add_asset: AssetFactory
) -> None:
    asset_id = await add_asset(duration_s=60.0004)
    body = {"source": {"asset_id": str(asset_id)}, "start": 30, "end": 60.0004}
    resp = await client.post("/v1/clips", json=body, headers=bearer() | new_key())
    assert resp.status == 202


async def test_an_asset_whose_duration_is_unknown_leaves_the_range_to_the_worker(
    client: TestClient[Any, Any], bearer: Headers, add_asset: AssetFactory
) -> None:
    asset_id = await add_asset(duration_s=None)
    resp = await client.post(
        "/v1/clips", json=clip_of(asset_id, start=5000), headers=bearer() | new_key()
    )
    assert resp.status == 202


async def test_a_client_that_sends_resolved_source_is_refused(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader, add_asset: AssetFactory
) -> None:
    asset_id = await add_asset()
    forged = {"asset_id": str(asset_id), "path": "../../etc/passwd", "sha256": None}
    resp = await client.post(
        "/v1/clips", json=clip_of(asset_id, resolved_source=forged), headers=bearer() | new_key()
    )
    assert resp.status == 422
    assert (await resp.json())["errors"][0]["loc"] == ["body", "resolved_source"]
    assert await read_commands() == []


async def test_reframing_in_fast_mode_is_refused_at_once_as_the_clipper_would(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader, add_asset: AssetFactory
) -> None:
    asset_id = await add_asset()
    resp = await client.post(
        "/v1/clips",
        json=clip_of(asset_id, mode="fast", aspect="9:16"),
        headers=bearer() | new_key(),
    )
    assert resp.status == 422
    [error] = (await resp.json())["errors"]
    assert error["loc"] == ["body", "aspect"]
    assert "accurate" in error["msg"]
    assert await read_commands() == []


@pytest.mark.parametrize(
    "body",
    [
        {"source": {"path": "a.mp4"}, "start": -1, "duration": 5},
        {"source": {"path": "a.mp4"}, "start": 0, "duration": 0},
        {"source": {"path": "a.mp4"}, "start": 0, "duration": 3601},
        {"source": {"path": "a.mp4"}, "start": 10, "end": 5},
        {"source": {"path": "a.mp4"}, "start": 0, "duration": 5, "format": "avi"},
        {"source": {"path": "a.mp4", "asset_id": str(uuid.uuid4())}, "start": 0, "duration": 5},
        {"source": {}, "start": 0, "duration": 5},
    ],
)
async def test_an_impossible_clip_request_is_a_422(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader, body: dict[str, Any]
) -> None:
    resp = await client.post("/v1/clips", json=body, headers=bearer() | new_key())
    assert resp.status == 422
    assert (await resp.json())["errors"]
    assert await read_commands() == []
