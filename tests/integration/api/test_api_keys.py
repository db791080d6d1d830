"""The key store on disk: keys persist across restarts, rotate, and are published as JWKS."""

from __future__ import annotations

import stat
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from aiohttp.test_utils import TestClient

from api.auth.cli import issue_token_from_settings, rotate_keys_from_settings
from api.auth.keystore import KeyStore
from api.auth.verify import TokenVerifier
from wavestack.settings import Settings

Factory = Callable[..., Awaitable[TestClient[Any, Any]]]


def verifier(settings: Settings) -> TokenVerifier:
    # A new store instance: nothing cached, everything read from the directory.
    return TokenVerifier(
        KeyStore(settings.auth_keys_dir),
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        leeway=settings.auth_leeway_seconds,
    )


async def test_a_token_still_verifies_with_a_new_store_on_the_same_directory(
    settings: Settings,
) -> None:
    token = issue_token_from_settings(settings, org="org-a", sub="alice", scope="read queue:write")
    principal = await verifier(settings).verify(token)
    assert principal.org_id == "org-a"
    assert principal.sub == "alice"
    assert principal.scopes == {"read", "queue:write"}


async def test_private_keys_are_mode_0600_in_a_0700_directory(settings: Settings) -> None:
    issue_token_from_settings(settings, org="org-a", sub="alice", scope="read")
    rotate_keys_from_settings(settings)
    assert stat.S_IMODE(settings.auth_keys_dir.stat().st_mode) == 0o700
    pems = list(settings.auth_keys_dir.glob("*.pem"))
    assert len(pems) == 2
    assert {stat.S_IMODE(p.stat().st_mode) for p in pems} == {0o600}


async def test_rotation_signs_with_the_new_key_and_old_tokens_keep_verifying(
    settings: Settings,
) -> None:
    old = issue_token_from_settings(settings, org="org-a", sub="alice", scope="read")
    new_kid = rotate_keys_from_settings(settings)
    new = issue_token_from_settings(settings, org="org-a", sub="alice", scope="read")
    assert jwt.get_unverified_header(new)["kid"] == new_kid
    assert jwt.get_unverified_header(old)["kid"] != new_kid
    check = verifier(settings)
    assert (await check.verify(old)).sub == "alice"
    assert (await check.verify(new)).sub == "alice"


async def test_a_running_api_accepts_tokens_of_a_key_rotated_after_it_started(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    first = issue_token_from_settings(settings, org="org-a", sub="alice", scope="read")
    assert (await client.get("/v1/queue", headers={"Authorization": f"Bearer {first}"})).ok
    rotate_keys_from_settings(settings)  # as `wavestack keys rotate` in another process
    second = issue_token_from_settings(settings, org="org-a", sub="alice", scope="read")
    resp = await client.get("/v1/queue", headers={"Authorization": f"Bearer {second}"})
    assert resp.status == 200


async def test_the_jwks_endpoint_publishes_every_public_key_and_no_private_part(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    store = KeyStore(settings.auth_keys_dir)
    first = store.active_kid()
    second = store.rotate()
    resp = await client.get("/.well-known/jwks.json")
    assert resp.status == 200
    keys = (await resp.json())["keys"]
    assert {k["kid"] for k in keys} == {first, second}
    for key in keys:
        assert key["kty"] == "RSA"
        assert key["alg"] == "RS256"
        assert key["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys()
    # A client can verify our token with nothing but the published set.
    token = issue_token_from_settings(settings, org="org-a", sub="alice", scope="read")
    public = jwt.PyJWKSet.from_dict({"keys": keys})[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, public.key, algorithms=["RS256"], audience=settings.auth_audience)
    assert claims["org_id"] == "org-a"


async def test_the_seed_key_id_names_the_first_key(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(auth_key_id="seed-key-1")
    token = issue_token_from_settings(settings, org="org-a", sub="alice", scope="read")
    assert jwt.get_unverified_header(token)["kid"] == "seed-key-1"
    assert (settings.auth_keys_dir / "seed-key-1.key.pem").exists()
