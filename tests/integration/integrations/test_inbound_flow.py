"""Inbound bots through the whole stack: the API, the decider and media worker, the
projector and the integrations consumer as child processes, the platforms as fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.fakes.discord_interactions import FakeDiscordApplication
from tests.fakes.twitch import FakeTwitch
from tests.integration.api.conftest import ClientFactory
from tests.integration.api.spaces import org_space
from tests.integration.integrations.conftest import TWITCH_SECRET
from tests.media import make_video
from tests.processes import Child
from vault.keytable import key_schema
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
SCOPES = "integrations:write queue:write clips:write assets:write read"

pytestmark = pytest.mark.slow


@pytest.fixture
async def stack(
    client_factory: ClientFactory,
    settings: Settings,
    ring_text: str,
    discord_app: FakeDiscordApplication,
    tmp_path: Path,
) -> AsyncIterator[TestClient[Any, Any]]:
    overrides = {"secret_key": ring_text, "platform_discord_base_url": discord_app.api_base}
    child_settings = Settings(**{**settings.model_dump(), **overrides})
    children = [
        Child("worker", child_settings, tmp_path),
        Child("projector", child_settings, tmp_path),
        Child(
            "worker", child_settings, tmp_path, args=("--role", "integrations"), name="integrations"
        ),
    ]
    for child in children:
        await child.start()
    try:
        await children[2].wait_for_output("Worker ready")
        yield await client_factory(**overrides)
    finally:
        for child in children:
            await child.stop()
        conn = await asyncpg.connect(settings.dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{key_schema(settings.db_schema)}" CASCADE')
        finally:
            await conn.close()


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 60) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await check()
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, f"never: {what}"
        await asyncio.sleep(0.2)


async def _status(api: TestClient[Any, Any], path: str, h: dict[str, str]) -> dict[str, Any] | None:
    resp = await api.get(path, headers=h)
    return dict(await resp.json()) if resp.status == 200 else None


async def test_discord_queue_and_clip_get_their_follow_ups_and_twitch_revocation_sticks(
    stack: TestClient[Any, Any],
    bearer: Headers,
    discord_app: FakeDiscordApplication,
    settings: Settings,
) -> None:
    api, h = stack, bearer(scopes=SCOPES)
    created = await api.post(
        "/v1/integrations",
        json={
            "platform": "discord",
            "name": "Flow bot",
            "application_id": discord_app.application_id,
            "public_key": discord_app.public_key,
            "scopes": ["queue:write", "clips:write", "read"],
        },
        headers=h | {"Idempotency-Key": "discord-flow"},
    )
    assert created.status == 202, await created.text()
    integration_id = (await created.json())["id"]
    await until(lambda: _status(api, f"/v1/integrations/{integration_id}", h), "integration")
    url = f"/integrations/discord/{integration_id}/interactions"

    queue = discord_app.command("queue", {"title": "Hello from Discord", "platform": "discord"})
    resp = await api.post(url, data=queue.body, headers=discord_app.headers(queue.body))
    assert await resp.json() == {"type": 5}
    told = await until(
        lambda: asyncio.sleep(0, [m for m in discord_app.followups if m["token"] == queue.token]),
        "the /queue follow-up",
    )
    assert told[0]["content"].startswith("Queued “Hello from Discord” for discord")

    make_video(org_space(settings) / "stream.mp4", seconds=6)
    asset = await api.post(
        "/v1/assets",
        json={"path": "stream.mp4", "kind": "video"},
        headers=h | {"Idempotency-Key": "stream"},
    )
    asset_id = (await asset.json())["id"]

    async def registered() -> bool:
        found = await _status(api, f"/v1/assets/{asset_id}", h)
        return found is not None and found["status"] == "registered"

    await until(registered, "the asset registered")
    clip = discord_app.command("clip", {"asset": asset_id, "start": 1, "duration": 2})
    resp = await api.post(url, data=clip.body, headers=discord_app.headers(clip.body))
    assert await resp.json() == {"type": 5}
    told = await until(
        lambda: asyncio.sleep(0, [m for m in discord_app.followups if m["token"] == clip.token]),
        "the /clip follow-up",
        timeout=90,
    )
    assert " is ready" in told[0]["content"], told
    link = told[0]["content"].rsplit(": ", 1)[1]
    assert "/integrations/downloads/" in link
    # Anyone in the channel can fetch the clip by its link, without a token...
    path = link.split(str(settings.api_port), 1)[1]
    fetched = await api.get(path, headers={"Range": "bytes=0-3"})
    assert fetched.status == 206
    assert len(await fetched.read()) == 4
    # ...but only that asset, and only with the whole token.
    forged = path.rsplit("/", 1)[0] + "/" + "A" * 43
    assert (await api.get(forged)).status == 404
    assert (await api.get(path.replace(path.split("/")[3], asset_id))).status == 404
    assert len(discord_app.followups) == 2  # one each, nothing told twice

    # Twitch: created through the API, revoked by the platform, refused from then on.
    twitch = FakeTwitch(TWITCH_SECRET)
    created = await api.post(
        "/v1/integrations",
        json={
            "platform": "twitch",
            "name": "Channel",
            "secret": TWITCH_SECRET,
            "broadcaster_user_id": twitch.broadcaster_user_id,
            "recording": {"asset_id": asset_id},
            "scopes": ["clips:write"],
        },
        headers=h | {"Idempotency-Key": "twitch-flow"},
    )
    twitch_id = (await created.json())["id"]
    await until(lambda: _status(api, f"/v1/integrations/{twitch_id}", h), "twitch integration")
    eventsub = f"/integrations/twitch/{twitch_id}/eventsub"
    body = twitch.body(twitch.revocation("authorization_revoked"))
    resp = await api.post(eventsub, data=body, headers=twitch.headers("revocation", body))
    assert resp.status == 204

    async def revoked() -> bool:
        found = await _status(api, f"/v1/integrations/{twitch_id}", h)
        return found is not None and found["status"] == "revoked"

    await until(revoked, "the integration revoked")
    body = twitch.body(twitch.chat("!clip", badges=("moderator",)))
    resp = await api.post(eventsub, data=body, headers=twitch.headers("notification", body))
    assert resp.status == 410
    listed = await _status(api, "/v1/integrations", h)
    assert listed is not None
    assert {i["status"] for i in listed["items"]} == {"active", "revoked"}
