"""Fixtures for API tests: a running app on the test's settings, tokens, topic readers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, TopicPartition

from api.app import create_app
from api.auth.keystore import KeyStore
from api.auth.tokens import TokenKind, issue_token
from schemas.codec import decode
from schemas.envelope import Envelope
from wavestack.settings import Settings

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
AssetFactory = Callable[..., Awaitable[uuid.UUID]]
TokenFactory = Callable[..., str]

ALL_SCOPES = "queue:write clips:write projects:write assets:write read audit:read"


@pytest.fixture
async def client_factory(
    settings: Settings,
) -> AsyncIterator[ClientFactory]:
    """Starts create_app(settings) (or on ``overrides`` of the test's settings)."""
    clients: list[TestClient[Any, Any]] = []

    async def make(**overrides: Any) -> TestClient[Any, Any]:
        s = Settings(**{**settings.model_dump(), **overrides}) if overrides else settings
        client: TestClient[Any, Any] = TestClient(TestServer(create_app(s)))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(client_factory: ClientFactory) -> TestClient[Any, Any]:
    return await client_factory()


@pytest.fixture
def make_token(settings: Settings) -> TokenFactory:
    """Signs a token with the test's key store; defaults: org-a / alice / every scope."""
    store = KeyStore(settings.auth_keys_dir)

    def make(
        org: str = "org-a",
        sub: str = "alice",
        scopes: str = ALL_SCOPES,
        ttl: int = 600,
        kind: TokenKind = "user",
    ) -> str:
        return issue_token(
            store,
            org=org,
            sub=sub,
            scopes=scopes.split(),
            ttl=ttl,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            kind=kind,
        )

    return make


@pytest.fixture
def bearer(make_token: TokenFactory) -> Callable[..., dict[str, str]]:
    """Authorization headers for a fresh token (same arguments as make_token)."""

    def headers(**claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(**claims)}"}

    return headers


@pytest.fixture
def read_commands(settings: Settings) -> Callable[[], Awaitable[list[Envelope]]]:
    """Everything on the test's commands topic so far (read up to the end offsets)."""

    async def read() -> list[Envelope]:
        topic = settings.topics.commands
        parts = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            out: list[Envelope] = []
            while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
                batches = await consumer.getmany(*parts, timeout_ms=1000)
                out.extend(decode(m.value) for msgs in batches.values() for m in msgs)
            return out
        finally:
            await consumer.stop()

    return read


@pytest.fixture
def add_asset(db: asyncpg.Connection) -> AssetFactory:
    """Inserts an asset row as the projector would (registered, probed, in org-a)."""

    async def add(
        path: str = "in/source.mp4",
        *,
        org: str = "org-a",
        status: str = "registered",
        duration_s: float | None = 60.0,
        sha256: str | None = "ab" * 32,
        container: str | None = "mov,mp4,m4a,3gp,3g2,mj2",
        thumbnail_path: str | None = None,
    ) -> uuid.UUID:
        asset_id = uuid.uuid4()
        await db.execute(
            "INSERT INTO assets (id, org_id, path, kind, container, duration_s, sha256, status, "
            "created_at, updated_at, version, thumbnail_path) VALUES ($1, $2, $3, 'video', $4, "
            "$5, $6, $7, $8, $8, 1, $9)",
            asset_id,
            org,
            path,
            container,
            duration_s,
            sha256,
            status,
            datetime.now(UTC),
            thumbnail_path,
        )
        return asset_id

    return add
