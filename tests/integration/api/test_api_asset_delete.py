"""DELETE /v1/assets/{id}: DeleteAsset on the log, only for the caller's own asset."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from schemas.envelope import Envelope

Headers = Callable[..., dict[str, str]]
AssetFactory = Callable[..., Awaitable[uuid.UUID]]
Reader = Callable[[], Awaitable[list[Envelope]]]
WRITE = "assets:write read"


async def test_deleting_an_asset_puts_delete_asset_on_the_log(
    client: TestClient[Any, Any], bearer: Headers, add_asset: AssetFactory, read_commands: Reader
) -> None:
    asset_id = await add_asset("in/a.mp4")
    resp = await client.delete(f"/v1/assets/{asset_id}", headers=bearer(scopes=WRITE))
    assert resp.status == 202, await resp.text()
    body = await resp.json()
    assert body["id"] == str(asset_id)
    [command] = await read_commands()
    assert (command.type, command.aggregate_id, command.data) == (
        "asset.DeleteAsset",
        asset_id,
        {"keep_file": False},
    )
    assert str(command.id) == body["command_id"]


async def test_a_file_another_live_asset_names_is_kept(
    client: TestClient[Any, Any], bearer: Headers, add_asset: AssetFactory, read_commands: Reader
) -> None:
    first = await add_asset("clips/ab/same.mp4")
    await add_asset("clips/ab/same.mp4")  # an identical clip: one content-addressed file
    await add_asset("clips/ab/same.mp4", org="org-b")  # another org's: not ours to count
    resp = await client.delete(f"/v1/assets/{first}", headers=bearer(scopes=WRITE))
    assert resp.status == 202
    [command] = await read_commands()
    assert command.data == {"keep_file": True}


async def test_another_organizations_or_an_unknown_asset_is_a_404_and_nothing_is_sent(
    client: TestClient[Any, Any], bearer: Headers, add_asset: AssetFactory, read_commands: Reader
) -> None:
    theirs = await add_asset("in/a.mp4", org="org-b")
    for asset_id in (theirs, uuid.uuid4()):
        resp = await client.delete(f"/v1/assets/{asset_id}", headers=bearer(scopes=WRITE))
        assert resp.status == 404
    assert (await client.delete("/v1/assets/nope", headers=bearer(scopes=WRITE))).status == 404
    assert await read_commands() == []


async def test_an_asset_being_probed_is_a_409_and_a_read_token_a_403(
    client: TestClient[Any, Any], bearer: Headers, add_asset: AssetFactory, read_commands: Reader
) -> None:
    probing = await add_asset("in/a.mp4", status="probing")
    resp = await client.delete(f"/v1/assets/{probing}", headers=bearer(scopes=WRITE))
    assert resp.status == 409
    assert (await resp.json())["asset_status"] == "probing"
    registered = await add_asset("in/b.mp4")
    resp = await client.delete(f"/v1/assets/{registered}", headers=bearer(scopes="read"))
    assert resp.status == 403
    assert await read_commands() == []


async def test_a_deleted_asset_no_longer_counts_in_usage(
    client: TestClient[Any, Any], bearer: Headers, add_asset: AssetFactory, db: asyncpg.Connection
) -> None:
    kept = await add_asset("in/a.mp4")
    gone = await add_asset("in/b.mp4")
    await db.execute("UPDATE assets SET size_bytes = 1000 WHERE id = ANY($1::uuid[])", [kept, gone])
    await db.execute("UPDATE assets SET status = 'deleted' WHERE id = $1", gone)
    usage = await (await client.get("/v1/usage", headers=bearer())).json()
    assert (usage["bytes_stored"], usage["assets"]) == (1000, 1)
