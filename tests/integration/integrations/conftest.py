"""Fixtures of the inbound bot tests: the API with a key ring, integration rows as the
projector writes them, the platforms' fakes."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.fakes.discord_interactions import FakeDiscordApplication
from tests.fakes.twitch import FakeTwitch
from tests.integration.api.conftest import (  # noqa: F401 (fixtures)
    ClientFactory,
    add_asset,
    bearer,
    client_factory,
    make_token,
    read_commands,
)
from vault import inbound, keytable
from vault.keyring import KeyRing, generate_entry
from wavestack.settings import Settings

TWITCH_SECRET = "s3cret-of-the-subscription"
AddIntegration = Callable[..., Awaitable[uuid.UUID]]


@pytest.fixture
def ring_text() -> str:
    return generate_entry("k1")


@pytest.fixture
async def api(
    client_factory: ClientFactory,  # noqa: F811
    ring_text: str,
    settings: Settings,
) -> AsyncIterator[TestClient[Any, Any]]:
    yield await client_factory(secret_key=ring_text)
    conn = await asyncpg.connect(settings.dsn)
    try:
        await conn.execute(
            f'DROP SCHEMA IF EXISTS "{keytable.key_schema(settings.db_schema)}" CASCADE'
        )
    finally:
        await conn.close()


@pytest.fixture
async def discord_app() -> AsyncIterator[FakeDiscordApplication]:
    fake = FakeDiscordApplication()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def add_integration(db: asyncpg.Connection, settings: Settings, ring_text: str) -> AddIntegration:
    """An integration row as the projector writes it (and a Twitch one's sealed secret)."""

    async def add(
        platform: str = "discord",
        *,
        org: str = "org-a",
        scopes: tuple[str, ...] = ("queue:write", "clips:write", "read"),
        application_id: str | None = None,
        public_key: str | None = None,
        broadcaster_user_id: str | None = None,
        recording_asset_id: uuid.UUID | None = None,
        recording_project_id: uuid.UUID | None = None,
        status: str = "active",
        secret: str = TWITCH_SECRET,
    ) -> uuid.UUID:
        integration_id = uuid.uuid4()
        now = datetime.now(UTC)
        await db.execute(
            "INSERT INTO integrations (id, org_id, platform, name, scopes, application_id, "
            "public_key, broadcaster_user_id, recording_project_id, recording_asset_id, status, "
            "created_at, updated_at, version) VALUES ($1, $2, $3, 'bot', $4::jsonb, $5, $6, $7, "
            "$8, $9, $10, $11, $11, 1)",
            integration_id,
            org,
            platform,
            json.dumps(list(scopes)),
            application_id,
            public_key,
            broadcaster_user_id,
            recording_project_id,
            recording_asset_id,
            status,
            now,
        )
        if platform == "twitch":
            await inbound.create_tables(db, settings.db_schema)
            await inbound.store_secret(
                db, settings.db_schema, KeyRing.parse(ring_text), org, str(integration_id), secret
            )
        return integration_id

    return add


@pytest.fixture
def twitch() -> FakeTwitch:
    return FakeTwitch(TWITCH_SECRET)
