"""POST/GET/DELETE /v1/integrations: bodies, scopes, the write-only secret, organizations."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from schemas.envelope import Envelope
from tests.integration.integrations.conftest import TWITCH_SECRET, AddIntegration
from vault import inbound
from vault.inbound import SECRETS
from vault.keyring import KeyRing, generate_entry
from vault.keytable import key_schema
from wavestack.secrets import rotate_secrets
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
ReadCommands = Callable[[], Awaitable[list[Envelope]]]
SCOPES = "integrations:write queue:write clips:write read"
DISCORD = {
    "platform": "discord",
    "name": "Server bot",
    "application_id": "123456789012345678",
    "public_key": "AB" * 32,
    "scopes": ["queue:write", "clips:write", "read"],
}


def _twitch(recording: dict[str, str], secret: Any = TWITCH_SECRET) -> dict[str, Any]:
    return {
        "platform": "twitch",
        "name": "Channel bot",
        "secret": secret,
        "broadcaster_user_id": "1337",
        "recording": recording,
        "scopes": ["clips:write"],
    }


async def test_a_discord_integration_becomes_create_integration_with_its_key(
    api: TestClient[Any, Any], bearer: Headers, read_commands: ReadCommands
) -> None:
    h = bearer(scopes=SCOPES) | {"Idempotency-Key": "discord-1"}
    first = await api.post("/v1/integrations", json=DISCORD, headers=h)
    assert first.status == 202, await first.text()
    again = await api.post("/v1/integrations", json=DISCORD, headers=h)
    assert (await again.json()) == (await first.json())
    (command,) = await read_commands()
    assert command.type == "integration.CreateIntegration"
    assert command.data["public_key"] == "ab" * 32
    assert command.data["scopes"] == ["queue:write", "clips:write", "read"]


async def test_a_twitch_secret_is_sealed_in_the_vault_and_never_on_the_log_or_answered(
    api: TestClient[Any, Any],
    bearer: Headers,
    read_commands: ReadCommands,
    add_asset: Callable[..., Awaitable[uuid.UUID]],
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    asset_id = await add_asset()
    h = bearer(scopes=SCOPES) | {"Idempotency-Key": "twitch-1"}
    resp = await api.post("/v1/integrations", json=_twitch({"asset_id": str(asset_id)}), headers=h)
    assert resp.status == 202, await resp.text()
    assert TWITCH_SECRET not in await resp.text()
    (command,) = await read_commands()
    assert command.data["recording_asset_id"] == str(asset_id)
    assert command.data["key_id"] == "k1"
    assert TWITCH_SECRET not in command.model_dump_json()
    rows = await db.fetch(f'SELECT * FROM "{key_schema(settings.db_schema)}".{SECRETS}')
    assert [r["integration_id"] for r in rows] == [uuid.UUID(str((await resp.json())["id"]))]
    assert TWITCH_SECRET not in json.dumps([dict(r) for r in rows], default=str)
    # The same key with another secret is another request: refused, the first one kept.
    other = await api.post(
        "/v1/integrations", json=_twitch({"asset_id": str(asset_id)}, "another-secret-1"), headers=h
    )
    assert other.status == 422
    assert "another-secret-1" not in await other.text()


async def test_invalid_bodies_are_refused_without_echoing_the_secret(
    api: TestClient[Any, Any], bearer: Headers, read_commands: ReadCommands
) -> None:
    h = bearer(scopes=SCOPES)
    cases = [
        {**DISCORD, "public_key": "not-hex"},
        {**DISCORD, "platform": "slack"},
        {**DISCORD, "scopes": ["connections:write"]},
        {**DISCORD, "org_id": "org-b"},
        _twitch(
            {"asset_id": str(uuid.uuid4()), "project_id": str(uuid.uuid4())}, "hunter2-hunter2"
        ),
        _twitch({"asset_id": str(uuid.uuid4())}, "short"),
        _twitch({"asset_id": str(uuid.uuid4())}, {"hunter2-hunter2": 1}),
        {"platform": "twitch"},
    ]
    for i, body in enumerate(cases):
        resp = await api.post(
            "/v1/integrations", json=body, headers=h | {"Idempotency-Key": f"k{i}"}
        )
        text = await resp.text()
        assert resp.status == 422, (body, text)
        assert "hunter2" not in text
    unknown = await api.post(
        "/v1/integrations",
        json=_twitch({"asset_id": str(uuid.uuid4())}),
        headers=h | {"Idempotency-Key": "unknown-asset"},
    )
    assert unknown.status == 404
    assert await read_commands() == []


async def test_a_token_cannot_give_its_bot_more_than_it_has(
    api: TestClient[Any, Any], bearer: Headers, read_commands: ReadCommands
) -> None:
    h = bearer(scopes="integrations:write read") | {"Idempotency-Key": "escalate"}
    resp = await api.post("/v1/integrations", json=DISCORD, headers=h)
    assert resp.status == 422
    assert "queue:write" in await resp.text()
    missing = await api.post("/v1/integrations", json=DISCORD, headers=bearer(scopes="read"))
    assert missing.status == 403
    assert await read_commands() == []


async def test_another_organizations_integration_is_404_for_reads_and_deletes(
    api: TestClient[Any, Any],
    bearer: Headers,
    add_integration: AddIntegration,
    read_commands: ReadCommands,
) -> None:
    mine = await add_integration(application_id="1", public_key="ab" * 32)
    theirs = await add_integration(org="org-b", application_id="2", public_key="cd" * 32)
    h = bearer(scopes=SCOPES)
    listed = await (await api.get("/v1/integrations", headers=h)).json()
    assert [i["id"] for i in listed["items"]] == [str(mine)]
    assert "org_id" not in listed["items"][0]
    assert (await api.get(f"/v1/integrations/{mine}", headers=h)).status == 200
    assert (await api.get(f"/v1/integrations/{theirs}", headers=h)).status == 404
    assert (await api.delete(f"/v1/integrations/{theirs}", headers=h)).status == 404
    deleted = await api.delete(f"/v1/integrations/{mine}", headers=h)
    assert deleted.status == 202
    (command,) = await read_commands()
    assert (command.type, command.aggregate_id, command.org_id) == (
        "integration.DeleteIntegration",
        mine,
        "org-a",
    )


async def test_the_openapi_document_lists_the_integration_routes(api: TestClient[Any, Any]) -> None:
    paths = (await (await api.get("/openapi.json")).json())["paths"]
    assert "post" in paths["/v1/integrations"]
    assert "security" not in paths["/integrations/discord/{id}/interactions"]["post"]
    assert "security" not in paths["/integrations/twitch/{id}/eventsub"]["post"]


async def test_deleting_a_twitch_integration_shreds_its_secret_at_once(
    api: TestClient[Any, Any],
    bearer: Headers,
    add_integration: AddIntegration,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    integration_id = await add_integration(
        "twitch", broadcaster_user_id="1337", recording_asset_id=uuid.uuid4()
    )
    table = f'"{key_schema(settings.db_schema)}".{SECRETS}'
    assert await db.fetchval(f"SELECT count(*) FROM {table}") == 1
    resp = await api.delete(f"/v1/integrations/{integration_id}", headers=bearer(scopes=SCOPES))
    assert resp.status == 202
    assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0
    # Its endpoint can no longer verify anything (the read model has not seen the DELETE).
    headers = {
        "Twitch-Eventsub-Message-Id": "m",
        "Twitch-Eventsub-Message-Timestamp": "t",
        "Twitch-Eventsub-Message-Signature": "sha256=00",
        "Twitch-Eventsub-Message-Type": "notification",
    }
    url = f"/integrations/twitch/{integration_id}/eventsub"
    gone = await api.post(url, data=b"{}", headers=headers)
    assert gone.status == 404


async def test_rotating_the_key_ring_rewraps_twitch_secrets_too(
    api: TestClient[Any, Any],
    add_integration: AddIntegration,
    db: asyncpg.Connection,
    settings: Settings,
    ring_text: str,
) -> None:
    integration_id = await add_integration(
        "twitch", broadcaster_user_id="1337", recording_asset_id=uuid.uuid4()
    )
    rotated = f"{generate_entry('k2')},{ring_text}"
    await rotate_secrets(Settings(**{**settings.model_dump(), "secret_key": rotated}))
    table = f'"{key_schema(settings.db_schema)}".{SECRETS}'
    wrapped = await db.fetchval(f"SELECT wrapped_key FROM {table}")
    assert wrapped.startswith("k2:")
    opened = await inbound.load_secret(
        db, settings.db_schema, KeyRing.parse(rotated), str(integration_id)
    )
    assert opened == ("org-a", TWITCH_SECRET)
