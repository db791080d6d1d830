"""JWT verification per request, parsed key cached: first sight of a token and repeats."""

from __future__ import annotations

import asyncio
import time

import jwt

from api.auth.cli import issue_token_from_settings, key_store
from api.auth.verify import TokenVerifier
from wavestack.settings import Settings

ROUNDS = 1000


async def run(settings: Settings) -> dict[str, float]:
    tokens = [
        issue_token_from_settings(
            settings, org="bench", sub=f"bot-{i}", scope="queue:write read", ttl=3600
        )
        for i in range(ROUNDS)
    ]
    store = key_store(settings)
    verifier = TokenVerifier(
        store, settings.auth_issuer, settings.auth_audience, settings.auth_leeway_seconds
    )
    await verifier.verify(tokens[0])  # parse and cache the public key once

    start = time.perf_counter()
    for token in tokens[1:]:
        await verifier.verify(token)  # new tokens: full RS256 verification
    first_sight = (time.perf_counter() - start) / (ROUNDS - 1)

    start = time.perf_counter()
    for token in tokens[1:]:
        await verifier.verify(token)  # the same tokens again: verified-token memory
    repeat = (time.perf_counter() - start) / (ROUNDS - 1)

    key = store.public_key(jwt.get_unverified_header(tokens[0])["kid"])
    assert key is not None
    start = time.perf_counter()
    for token in tokens[1:]:
        jwt.decode(
            token, key, algorithms=["RS256"],
            audience=settings.auth_audience, issuer=settings.auth_issuer,
        )  # fmt: skip
    bare = (time.perf_counter() - start) / (ROUNDS - 1)
    return {
        "first_sight_us": first_sight * 1e6,
        "repeat_token_us": repeat * 1e6,
        "bare_pyjwt_decode_us": bare * 1e6,
        "first_sight_vs_bare": first_sight / bare,
    }


if __name__ == "__main__":
    print(asyncio.run(run(Settings())))
