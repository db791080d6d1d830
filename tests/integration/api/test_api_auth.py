"""The auth matrix: every way a token can be wrong is a 401 problem; scopes and orgs hold."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.auth.keystore import KeyStore
from schemas.envelope import Envelope
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
Reader = Callable[[], Awaitable[list[Envelope]]]
ITEM = {"platform": "youtube", "title": "Hello"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj: dict[str, Any]) -> str:
    return b64(json.dumps(obj).encode())


@pytest.fixture
def claims(settings: Settings) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": settings.auth_issuer,
        "aud": settings.auth_audience,
        "sub": "mallory",
        "org_id": "org-a",
        "scope": "queue:write read",
        "iat": now,
        "exp": now + 600,
    }


@pytest.fixture
def store(settings: Settings) -> KeyStore:
    return KeyStore(settings.auth_keys_dir)


def signed(store: KeyStore, claims: dict[str, Any]) -> str:
    kid, key = store.signing_key()
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


async def assert_401(client: TestClient[Any, Any], token: str | None, why: str = "") -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    resp = await client.post("/v1/queue", json=ITEM, headers=headers)
    assert resp.status == 401, why
    assert resp.content_type == "application/problem+json"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    problem = await resp.json()
    assert problem["status"] == 401
    assert problem["detail"]


async def test_a_request_without_a_token_is_a_401_problem(client: TestClient[Any, Any]) -> None:
    await assert_401(client, None)
    resp = await client.get("/v1/queue", headers={"Authorization": "Basic YWxpY2U6cHc="})
    assert resp.status == 401


async def test_a_valid_token_is_accepted(
    client: TestClient[Any, Any], store: KeyStore, claims: dict[str, Any]
) -> None:
    # The control for the cases below: the same claims, correctly signed, work.
    token = signed(store, claims)
    resp = await client.post(
        "/v1/queue",
        json=ITEM,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "ok"},
    )
    assert resp.status == 202


async def test_a_token_signed_by_another_key_under_our_kid_is_a_401(
    client: TestClient[Any, Any], store: KeyStore, claims: dict[str, Any]
) -> None:
    kid, _ = store.signing_key()
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims, forger, algorithm="RS256", headers={"kid": kid})
    await assert_401(client, token, "bad signature")
    tampered = signed(store, claims).split(".")
    tampered[1] = segment({**claims, "org_id": "org-b"})
    await assert_401(client, ".".join(tampered), "payload swapped")


async def test_alg_none_is_a_401(
    client: TestClient[Any, Any], store: KeyStore, claims: dict[str, Any]
) -> None:
    kid, _ = store.signing_key()
    for alg in ("none", "None", "NONE"):
        token = f"{segment({'alg': alg, 'typ': 'JWT', 'kid': kid})}.{segment(claims)}."
        await assert_401(client, token, alg)


async def test_hs256_signed_with_our_public_key_is_a_401(
    client: TestClient[Any, Any], store: KeyStore, claims: dict[str, Any]
) -> None:
    kid, key = store.signing_key()
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for alg, digest in (("HS256", hashlib.sha256), ("HS512", hashlib.sha512)):
        signing_input = f"{segment({'alg': alg, 'typ': 'JWT', 'kid': kid})}.{segment(claims)}"
        mac = hmac.new(pem, signing_input.encode(), digest).digest()
        await assert_401(client, f"{signing_input}.{b64(mac)}", alg)


async def test_an_expired_token_is_a_401_beyond_the_leeway_only(
    client: TestClient[Any, Any], store: KeyStore, claims: dict[str, Any], settings: Settings
) -> None:
    now = int(time.time())
    expired = {**claims, "iat": now - 3600, "exp": now - settings.auth_leeway_seconds - 5}
    await assert_401(client, signed(store, expired), "expired")
    within = {**claims, "iat": now - 3600, "exp": now - settings.auth_leeway_seconds // 2}
    resp = await client.get(
        "/v1/queue", headers={"Authorization": f"Bearer {signed(store, within)}"}
    )
    assert resp.status == 200


@pytest.mark.parametrize(
    "change",
    [
        {"iss": "someone-else"},
        {"aud": "another-api"},
        {"org_id": None},
        {"org_id": ""},
        {"org_id": 42},
        {"sub": None},
        {"exp": None},
        {"iat": None},
        {"actor_kind": "system"},
    ],
    ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()),
)
async def test_a_token_with_a_wrong_or_missing_claim_is_a_401(
    client: TestClient[Any, Any],
    store: KeyStore,
    claims: dict[str, Any],
    change: dict[str, Any],
) -> None:
    bad = {k: v for k, v in {**claims, **change}.items() if v is not None}
    await assert_401(client, signed(store, bad), str(change))


async def test_a_token_with_an_unknown_kid_or_garbage_is_a_401(
    client: TestClient[Any, Any], claims: dict[str, Any]
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "nobody"})
    await assert_401(client, token, "unknown kid")
    await assert_401(client, "not.a.jwt", "garbage")
    await assert_401(client, "x" * 5000, "long garbage")


async def test_a_missing_scope_is_a_403_naming_the_scope(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    resp = await client.post(
        "/v1/queue", json=ITEM, headers=bearer(scopes="read") | {"Idempotency-Key": "s"}
    )
    assert resp.status == 403
    assert resp.content_type == "application/problem+json"
    assert "queue:write" in (await resp.json())["detail"]
    assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]
    audit = await client.get("/v1/audit", headers=bearer(scopes="read"))
    assert audit.status == 403


async def test_scopes_may_come_from_an_scp_array(
    client: TestClient[Any, Any], store: KeyStore, claims: dict[str, Any]
) -> None:
    token = signed(store, {**{k: v for k, v in claims.items() if k != "scope"}, "scp": ["read"]})
    resp = await client.get("/v1/queue", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200


async def test_another_organizations_item_answers_404(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection
) -> None:
    item_id = uuid.uuid4()
    now = datetime.now(UTC)
    await db.execute(
        "INSERT INTO queue_items (id, org_id, platform, title, status, schedule_at, timezone, "
        "created_at, updated_at, version) "
        "VALUES ($1, 'org-b', 'x', 'theirs', 'scheduled', $2, 'UTC', $2, $2, 1)",
        item_id,
        now,
    )
    mine = await client.get(f"/v1/queue/{item_id}", headers=bearer(org="org-b"))
    assert mine.status == 200
    theirs = await client.get(f"/v1/queue/{item_id}", headers=bearer(org="org-a"))
    assert theirs.status == 404
    assert theirs.content_type == "application/problem+json"
    cancel = await client.post(f"/v1/queue/{item_id}/cancel", headers=bearer(org="org-a"))
    assert cancel.status == 404
    listed = await client.get("/v1/queue", headers=bearer(org="org-a"))
    assert (await listed.json())["items"] == []


async def test_an_org_id_in_the_body_or_query_never_wins_over_the_token(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader
) -> None:
    resp = await client.post(
        "/v1/queue",
        json={**ITEM, "org_id": "org-b"},
        headers=bearer(org="org-a") | {"Idempotency-Key": "body-org"},
    )
    assert resp.status == 422
    assert ["body", "org_id"] in [e["loc"] for e in (await resp.json())["errors"]]
    query = await client.get("/v1/queue?org_id=org-b", headers=bearer(org="org-a"))
    assert query.status == 422
    assert await read_commands() == []
