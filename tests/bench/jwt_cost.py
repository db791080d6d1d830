"""JWT verification per request with the parsed key cached, against bare PyJWT."""

from __future__ import annotations

import asyncio
import time

import jwt

from api.auth.cli import issue_token_from_settings, key_store
from api.auth.verify import TokenVerifier
from wavestack.settings import Settings

ROUNDS = 3000


async def run(settings: Settings) -> dict[str, float]:
    token = issue_token_from_settings(
        settings, org="bench", sub="bench-bot", scope="queue:write read", ttl=3600
    )
    store = key_store(settings)
    verifier = TokenVerifier(
        store, settings.auth_issuer, settings.auth_audience, settings.auth_leeway_seconds
    )
    await verifier.verify(token)  # parse and cache the key once
    start = time.perf_counter()
    for _ in range(ROUNDS):
        await verifier.verify(token)
    ours = (time.perf_counter() - start) / ROUNDS

    kid = jwt.get_unverified_header(token)["kid"]
    key = store.public_key(kid)
    assert key is not None
    start = time.perf_counter()
    for _ in range(ROUNDS):
        jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=settings.auth_audience,
            issuer=settings.auth_issuer,
        )
    bare = (time.perf_counter() - start) / ROUNDS
    return {"verify_us": ours * 1e6, "bare_pyjwt_us": bare * 1e6, "ratio": ours / bare}


if __name__ == "__main__":
    print(asyncio.run(run(Settings())))
