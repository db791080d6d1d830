"""POST/DELETE /v1/connections against the real Kafka and PostgreSQL: the key table,
the commands topic, and the credentials never in the clear anywhere a client or the
log can see."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.envelope import Envelope
from schemas.ids import aggregate_id_for, command_id_for
from vault import keytable
from vault.keyring import KeyRing, generate_entry
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
Reader = Callable[[], Awaitable[list[Envelope]]]
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]

SCOPES = "connections:write queue:write read"
SECRET = "whsec_" + "dG9wLXNlY3JldC13ZWJob29rLWtleS0xMjM0NTY3OA=="
HOOK_URL = "https://hooks.example.com/wavestack/private-path-9f3a"
WEBHOOK = {
    "platform": "webhook",
    "name": "Team hook",
    "credentials": {"url": HOOK_URL, "secret": SECRET},
}
X_TOKEN = "x-access-token-that-must-stay-private-77"


@pytest.fixture
def ring_text() -> str:
    return generate_entry("k2026a")


@pytest.fixture
async def vault_client(
    client_factory: ClientFactory, ring_text: str, settings: Settings
) -> AsyncIterator[TestClient[Any, Any]]:
    """An app with a key ring; the key table's schema is dropped afterwards."""
    yield await client_factory(secret_key=ring_text)
    conn = await asyncpg.connect(settings.dsn)
    try:
        await conn.execute(
            f'DROP SCHEMA IF EXISTS "{keytable.key_schema(settings.db_schema)}" CASCADE'
        )
    finally:
        await conn.close()


async def raw_commands(settings: Settings) -> bytes:
    """Every byte of the commands topic (keys and values), to grep for plaintext."""
    topic = settings.topics.commands
    parts = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        out = b""
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(*parts, timeout_ms=1000)
            for msgs in batches.values():
                for m in msgs:
                    out += (m.key or b"") + b"\n" + (m.value or b"") + b"\n"
        return out
    finally:
        await consumer.stop()


def headers(bearer: Headers, key: str | None = None, **claims: Any) -> dict[str, str]:
    h = bearer(scopes=SCOPES, **claims)
    return h | {"Idempotency-Key": key} if key else h


async def test_a_connection_is_sealed_stored_then_produced_with_only_ciphertext(
    vault_client: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    settings: Settings,
    db: asyncpg.Connection,
    ring_text: str,
) -> None:
    resp = await vault_client.post("/v1/connections", json=WEBHOOK, headers=headers(bearer, "c1"))
    text = await resp.text()
    assert resp.status == 202, text
    connection_id = aggregate_id_for(command_id_for("org-a", "c1"))
    assert (await resp.json())["id"] == str(connection_id)
    assert resp.headers["Location"] == f"/v1/connections/{connection_id}"
    assert SECRET not in text and HOOK_URL not in text

    stored = await keytable.load(db, settings.db_schema, str(connection_id))
    assert stored is not None
    assert (stored.org_id, stored.platform) == ("org-a", "webhook")
    assert keytable.open_credentials(stored, KeyRing.parse(ring_text)) == WEBHOOK["credentials"]

    [envelope] = await read_commands()
    assert envelope.type == "connection.CreateConnection"
    assert envelope.aggregate_id == connection_id
    assert envelope.data["sealed_credentials"] == stored.sealed_credentials
    assert envelope.data["key_id"] == "k2026a"
    assert set(envelope.data) == {"platform", "name", "sealed_credentials", "key_id"}
    raw = await raw_commands(settings)
    assert b"CreateConnection" in raw  # the grep below reads the real messages
    for plain in (SECRET, HOOK_URL, "dG9wLXNlY3JldC13ZWJob29r", "hooks.example.com"):
        assert plain.encode() not in raw


async def test_a_retry_with_the_same_key_reuses_the_row_and_the_ids(
    vault_client: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    settings: Settings,
    db: asyncpg.Connection,
) -> None:
    first = await vault_client.post("/v1/connections", json=WEBHOOK, headers=headers(bearer, "r"))
    stored = await keytable.load(db, settings.db_schema, (await first.json())["id"])
    again = await vault_client.post("/v1/connections", json=WEBHOOK, headers=headers(bearer, "r"))
    assert again.status == 202
    assert await again.json() == await first.json()
    assert await keytable.load(db, settings.db_schema, (await first.json())["id"]) == stored
    assert len(await read_commands()) == 1


async def test_the_same_key_with_other_credentials_is_refused_without_echoing_them(
    vault_client: TestClient[Any, Any], bearer: Headers, read_commands: Reader
) -> None:
    await vault_client.post("/v1/connections", json=WEBHOOK, headers=headers(bearer, "k"))
    other = {**WEBHOOK, "credentials": {"url": HOOK_URL, "secret": SECRET[:-4] + "QUFB"}}
    resp = await vault_client.post("/v1/connections", json=other, headers=headers(bearer, "k"))
    text = await resp.text()
    assert resp.status == 422
    assert "idempotency-key-reused" in text
    assert SECRET[:-4] not in text and HOOK_URL not in text
    assert len(await read_commands()) == 1


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({**WEBHOOK, "credentials": {"url": HOOK_URL}}, ["body", "credentials", "secret"]),
        (
            {**WEBHOOK, "credentials": {"url": HOOK_URL, "secret": "plain-" + X_TOKEN}},
            ["body", "credentials", "secret"],
        ),
        (
            {**WEBHOOK, "credentials": {"url": "http://10.0.0.7/" + X_TOKEN, "secret": SECRET}},
            ["body", "credentials", "url"],
        ),
        (
            {"platform": "discord", "name": "d", "credentials": {"webhook_url": HOOK_URL}},
            ["body", "credentials", "webhook_url"],
        ),
        (
            {"platform": "youtube", "name": "y", "credentials": {"client_secret": X_TOKEN}},
            ["body", "credentials", "access_token"],
        ),
        (
            {"platform": "x", "name": "x", "credentials": {"access_token": [X_TOKEN]}},
            ["body", "credentials", "access_token"],
        ),
        (
            {"platform": "x", "name": "x", "credentials": {"access_token": "ok", X_TOKEN: "1"}},
            ["body", "credentials"],
        ),
        ({"platform": "tiktok", "name": "t", "credentials": {"t": X_TOKEN}}, ["body", "platform"]),
        ({"platform": "x", "name": "x", "credentials": X_TOKEN}, ["body", "credentials"]),
        ({"platform": "x", "credentials": {"access_token": X_TOKEN}}, ["body", "name"]),
    ],
)
async def test_invalid_bodies_are_422_naming_the_field_and_never_the_secret(
    vault_client: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    body: dict[str, Any],
    loc: list[str],
) -> None:
    resp = await vault_client.post("/v1/connections", json=body, headers=headers(bearer, "v"))
    text = await resp.text()
    assert resp.status == 422, text
    assert loc in [e["loc"] for e in (await resp.json())["errors"]]
    assert X_TOKEN not in text and SECRET not in text and HOOK_URL not in text
    assert await read_commands() == []


async def test_without_a_key_ring_creating_a_connection_is_503_and_stores_nothing(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader
) -> None:
    resp = await client.post("/v1/connections", json=WEBHOOK, headers=headers(bearer, "n"))
    assert resp.status == 503
    problem = await resp.json()
    assert problem["type"] == "urn:wavestack:problem:secret-key-not-configured"
    assert "WAVESTACK_SECRET_KEY" in problem["detail"]
    assert "Retry-After" in resp.headers
    assert await read_commands() == []


async def test_creating_needs_the_connections_scope_and_an_idempotency_key(
    vault_client: TestClient[Any, Any], bearer: Headers
) -> None:
    no_scope = await vault_client.post(
        "/v1/connections", json=WEBHOOK, headers=bearer(scopes="read") | {"Idempotency-Key": "s"}
    )
    assert no_scope.status == 403
    no_key = await vault_client.post("/v1/connections", json=WEBHOOK, headers=headers(bearer))
    assert no_key.status == 400


async def test_delete_sends_delete_connection_and_shreds_the_key_at_once(
    vault_client: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    settings: Settings,
    db: asyncpg.Connection,
) -> None:
    created = await vault_client.post("/v1/connections", json=WEBHOOK, headers=headers(bearer, "d"))
    connection_id = (await created.json())["id"]
    resp = await vault_client.delete(f"/v1/connections/{connection_id}", headers=headers(bearer))
    assert resp.status == 202, await resp.text()
    assert (await resp.json())["id"] == connection_id
    assert await keytable.load(db, settings.db_schema, connection_id) is None
    envelopes = await read_commands()
    assert [e.type for e in envelopes] == [
        "connection.CreateConnection",
        "connection.DeleteConnection",
    ]
    assert str(envelopes[1].aggregate_id) == connection_id


async def test_a_retry_after_the_delete_is_refused_and_stores_no_credentials_again(
    vault_client: TestClient[Any, Any],
    bearer: Headers,
    settings: Settings,
    db: asyncpg.Connection,
) -> None:
    created = await vault_client.post("/v1/connections", json=WEBHOOK, headers=headers(bearer, "r"))
    connection_id = (await created.json())["id"]
    await vault_client.delete(f"/v1/connections/{connection_id}", headers=headers(bearer))
    again = await vault_client.post("/v1/connections", json=WEBHOOK, headers=headers(bearer, "r"))
    assert again.status == 422, await again.text()
    # The shredded credentials must not come back under the old connection id.
    assert await keytable.load(db, settings.db_schema, connection_id) is None


async def test_another_organizations_connection_is_404_on_delete_and_on_queue(
    vault_client: TestClient[Any, Any],
    bearer: Headers,
    read_commands: Reader,
    settings: Settings,
    db: asyncpg.Connection,
) -> None:
    created = await vault_client.post("/v1/connections", json=WEBHOOK, headers=headers(bearer, "o"))
    connection_id = (await created.json())["id"]
    theirs = headers(bearer, org="org-b")
    resp = await vault_client.delete(f"/v1/connections/{connection_id}", headers=theirs)
    assert resp.status == 404
    assert (await vault_client.get(f"/v1/connections/{connection_id}", headers=theirs)).status == (
        404
    )
    item = {"platform": "webhook", "title": "Hello", "connection_id": connection_id}
    queued = await vault_client.post(
        "/v1/queue", json=item, headers=headers(bearer, "q", org="org-b")
    )
    assert queued.status == 404
    assert ["body", "connection_id"] in [e["loc"] for e in (await queued.json())["errors"]]
    assert await keytable.load(db, settings.db_schema, connection_id) is not None
    assert [e.type for e in await read_commands()] == ["connection.CreateConnection"]
    missing = await vault_client.delete(
        "/v1/connections/7d0c3f7e-0000-4000-8000-000000000000", headers=headers(bearer)
    )
    assert missing.status == 404


async def test_connections_list_and_get_show_the_organizations_own_without_credentials(
    vault_client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    ids = []
    for org, name in (("org-a", "Mine"), ("org-a", "Old"), ("org-b", "Theirs")):
        connection_id = uuid.uuid4()
        ids.append(connection_id)
        await db.execute(
            "INSERT INTO connections (id, org_id, platform, name, status, created_at, "
            "updated_at, version) VALUES ($1, $2, 'x', $3, $4, now(), now(), 1)",
            connection_id,
            org,
            name,
            "deleted" if name == "Old" else "active",
        )
    page = await (await vault_client.get("/v1/connections", headers=headers(bearer))).json()
    assert sorted(c["name"] for c in page["items"]) == ["Mine", "Old"]
    assert set(page["items"][0]) == {
        "id", "platform", "name", "status", "created_at", "deleted_at", "updated_at", "version"
    }  # fmt: skip
    active = await vault_client.get("/v1/connections?status=active", headers=headers(bearer))
    assert [c["name"] for c in (await active.json())["items"]] == ["Mine"]
    one = await vault_client.get(f"/v1/connections/{ids[0]}", headers=headers(bearer))
    assert (await one.json())["name"] == "Mine"
    theirs = await vault_client.get(f"/v1/connections/{ids[2]}", headers=headers(bearer))
    assert theirs.status == 404
