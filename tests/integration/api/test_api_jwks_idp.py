"""Tokens of an external identity provider, verified through its JWKS URL (a local server)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from wavestack.settings import Settings

Factory = Callable[..., Awaitable[TestClient[Any, Any]]]
COOLDOWN_S = 1.0


class IdentityProvider:
    """Publishes a JWKS document, counts how often it is fetched, signs tokens."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.published: set[str] = set()
        self.fetches = 0

    def add_key(self, kid: str, *, publish: bool = True) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if publish:
            self.published.add(kid)

    async def jwks(self, request: web.Request) -> web.Response:
        self.fetches += 1
        keys = [
            {**json.loads(RSAAlgorithm.to_jwk(self.keys[kid].public_key())), "kid": kid}
            for kid in sorted(self.published)
        ]
        return web.json_response({"keys": keys})

    def token(self, settings: Settings, kid: str, org: str = "org-idp") -> str:
        now = int(time.time())
        claims = {
            "iss": settings.auth_issuer,
            "aud": settings.auth_audience,
            "sub": "idp-user",
            "org_id": org,
            "scp": ["read"],
            "iat": now,
            "exp": now + 300,
        }
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture
async def idp() -> AsyncIterator[tuple[IdentityProvider, str]]:
    provider = IdentityProvider()
    app = web.Application()
    app.router.add_get("/jwks", provider.jwks)
    server = TestServer(app)
    await server.start_server()
    yield provider, str(server.make_url("/jwks"))
    await server.close()


async def get_queue(client: TestClient[Any, Any], token: str) -> int:
    resp = await client.get("/v1/queue", headers={"Authorization": f"Bearer {token}"})
    return resp.status


async def test_an_idp_token_verifies_through_the_jwks_url_fetched_once(
    client_factory: Factory, idp: tuple[IdentityProvider, str], settings: Settings
) -> None:
    provider, url = idp
    provider.add_key("idp-1")
    client = await client_factory(auth_jwks_url=url, auth_jwks_cooldown_seconds=COOLDOWN_S)
    for _ in range(5):
        assert await get_queue(client, provider.token(settings, "idp-1")) == 200
    assert provider.fetches == 1


async def test_an_unknown_kid_refetches_at_most_once_per_cooldown(
    client_factory: Factory, idp: tuple[IdentityProvider, str], settings: Settings
) -> None:
    provider, url = idp
    provider.add_key("idp-1")
    provider.add_key("idp-2", publish=False)
    client = await client_factory(auth_jwks_url=url, auth_jwks_cooldown_seconds=COOLDOWN_S)
    started = time.monotonic()
    assert await get_queue(client, provider.token(settings, "idp-1")) == 200
    assert provider.fetches == 1

    # The IdP rotates: the new kid is unknown until the cooldown allows a refetch.
    provider.published.add("idp-2")
    new_token = provider.token(settings, "idp-2")
    assert await get_queue(client, new_token) == 401
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for i in range(20):  # a flood of made-up kids costs nothing inside the cooldown
        forged = jwt.encode({"sub": "x"}, stranger, algorithm="RS256", headers={"kid": f"fake{i}"})
        assert await get_queue(client, forged) == 401
    assert time.monotonic() - started < COOLDOWN_S, "the machine is too slow for this test"
    assert provider.fetches == 1

    await asyncio.sleep(COOLDOWN_S + 0.1)
    assert await get_queue(client, new_token) == 200
    assert provider.fetches == 2
    assert await get_queue(client, provider.token(settings, "idp-1")) == 200
    assert provider.fetches == 2


async def test_an_unreachable_idp_answers_401_and_local_tokens_keep_working(
    client_factory: Factory, bearer: Callable[..., dict[str, str]]
) -> None:
    client = await client_factory(auth_jwks_url="http://127.0.0.1:9/jwks")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode({"sub": "x"}, stranger, algorithm="RS256", headers={"kid": "idp-x"})
    assert await get_queue(client, token) == 401
    assert (await client.get("/v1/queue", headers=bearer())).status == 200
