"""The publishing API through the real decider and projector (worker and projector as
child processes): what the API sends is what the decider applies and the reads show."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.processes import Child
from vault import keytable
from vault.keyring import generate_entry
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
Ready = Callable[[int, dict[str, Any]], bool]

SCOPES = "connections:write queue:write read"
SECRET = "whsec_" + "Zmxvdy10ZXN0LXNlY3JldC1rZXktMDEyMzQ1Njc4OQ=="


@pytest.fixture
async def flow(
    client_factory: ClientFactory, settings: Settings, tmp_path: Path
) -> AsyncIterator[TestClient[Any, Any]]:
    """The API with a key ring, the decider and the projector on the test's topics."""
    ring = generate_entry("k1")
    children = [Child(cmd, settings, tmp_path) for cmd in ("worker", "projector")]
    for child in children:
        await child.start()
    try:
        yield await client_factory(secret_key=ring, egress_allow_private=True)
    finally:
        for child in children:
            await child.stop()
        conn = await asyncpg.connect(settings.dsn)
        try:
            schema = keytable.key_schema(settings.db_schema)
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


async def eventually(
    client: TestClient[Any, Any], path: str, headers: dict[str, str], ready: Ready
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        resp = await client.get(path, headers=headers)
        body = await resp.json()
        if ready(resp.status, body):
            return dict(body)
        assert asyncio.get_running_loop().time() < deadline, f"{path}: {resp.status} {body}"
        await asyncio.sleep(0.2)


def decided(status: int, body: dict[str, Any]) -> bool:
    return status == 200 and body.get("outcome") != "pending"


async def test_a_connection_and_an_item_on_it_are_applied_and_shown(
    flow: TestClient[Any, Any], bearer: Headers
) -> None:
    h = bearer(scopes=SCOPES)
    body = {
        "platform": "webhook",
        "name": "Flow hook",
        "credentials": {"url": "http://127.0.0.1:9/hook", "secret": SECRET},
    }
    created = await flow.post("/v1/connections", json=body, headers=h | {"Idempotency-Key": "c"})
    assert created.status == 202, await created.text()
    accepted = await created.json()
    outcome = await eventually(flow, f"/v1/commands/{accepted['command_id']}", h, decided)
    assert outcome["outcome"] == "applied", outcome
    shown = await eventually(flow, f"/v1/connections/{accepted['id']}", h, lambda s, b: s == 200)
    assert (shown["name"], shown["platform"], shown["status"]) == ("Flow hook", "webhook", "active")
    assert SECRET not in str(shown)

    item = {
        "platform": "webhook",
        "title": "On the hook",
        "connection_id": accepted["id"],
        "schedule_at": "2031-07-01T09:30:00+02:00",
        "timezone": "Europe/Paris",
    }
    queued = await flow.post("/v1/queue", json=item, headers=h | {"Idempotency-Key": "i"})
    assert queued.status == 202, await queued.text()
    q = await queued.json()
    outcome = await eventually(flow, f"/v1/commands/{q['command_id']}", h, decided)
    assert outcome["outcome"] == "applied", outcome
    row = await eventually(flow, f"/v1/queue/{q['id']}", h, lambda s, b: s == 200)
    assert row["connection_id"] == accepted["id"]
    assert row["schedule_local"] == "2031-07-01T09:30:00+02:00"
    assert row["schedule_at"].startswith("2031-07-01T07:30:00")
    assert row["attempt_history"] == [] and row["post"] is None

    deleted = await flow.delete(f"/v1/connections/{accepted['id']}", headers=h)
    assert deleted.status == 202
    outcome = await eventually(
        flow, f"/v1/commands/{(await deleted.json())['command_id']}", h, decided
    )
    assert outcome["outcome"] == "applied", outcome
    gone = await eventually(
        flow,
        f"/v1/connections/{accepted['id']}",
        h,
        lambda s, b: s == 200 and b["status"] == "deleted",
    )
    assert gone["deleted_at"] is not None
    # With its key row destroyed, the connection can no longer take items.
    again = await flow.post(
        "/v1/queue", json=item | {"title": "Later"}, headers=h | {"Idempotency-Key": "i2"}
    )
    assert again.status == 404
