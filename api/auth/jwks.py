"""Keys of an external identity provider, fetched from its JWKS URL and cached."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import jwt
import structlog
from cryptography.hazmat.primitives.asymmetric import rsa

log = structlog.get_logger(__name__)

FETCH_TIMEOUT_S = 5.0
MAX_JWKS_BYTES = 1024 * 1024
# A key set older than this is refreshed on the next lookup of a known kid too, so a
# key the provider withdrew stops verifying within the hour. While the provider cannot
# be reached the keys already fetched keep verifying: an outage must not log users out.
MAX_AGE_S = 3600.0


class RemoteJwks:
    """Looks up a kid in the provider's key set.

    An unknown kid refetches the set, but at most once per ``cooldown`` seconds: a
    stream of tokens with made-up kids costs one request per cooldown, not one each.
    A failed fetch counts as a fetch (same cooldown) and leaves the cached keys alone,
    so they keep verifying until a fetch succeeds; only never-fetched kids fail.
    """

    def __init__(
        self,
        url: str,
        cooldown: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._cooldown = cooldown
        self._clock = clock
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def key(self, kid: str) -> rsa.RSAPublicKey | None:
        if kid in self._keys and not self._stale():
            return self._keys[kid]
        async with self._lock:
            if kid in self._keys and not self._stale():
                return self._keys[kid]
            if self._fetched_at is not None and self._clock() - self._fetched_at < self._cooldown:
                return self._keys.get(kid)
            self._fetched_at = self._clock()
            try:
                self._keys = parse_jwks(await self._fetch())
            except (aiohttp.ClientError, TimeoutError, ValueError, jwt.PyJWTError) as exc:
                log.warning("JWKS fetch failed", url=self.url, error=repr(exc))
            return self._keys.get(kid)

    def _stale(self) -> bool:
        return self._fetched_at is not None and self._clock() - self._fetched_at > MAX_AGE_S

    async def _fetch(self) -> dict[str, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)
            )
        async with self._session.get(self.url, allow_redirects=False) as resp:
            resp.raise_for_status()
            raw = await resp.content.read(MAX_JWKS_BYTES + 1)
        if len(raw) > MAX_JWKS_BYTES:
            raise ValueError("JWKS document too large")
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            raise ValueError("JWKS document is not an object")
        return doc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def parse_jwks(doc: dict[str, Any]) -> dict[str, rsa.RSAPublicKey]:
    """The RS256 signing keys of a JWKS document, by kid; other keys are ignored."""
    keys: dict[str, rsa.RSAPublicKey] = {}
    for entry in doc.get("keys", []):
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") != "RS256":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        # Only the public members: a provider that leaks "d" must not make us hold it.
        public = {k: entry[k] for k in ("kty", "n", "e") if k in entry}
        try:
            key = jwt.PyJWK(public, algorithm="RS256").key
        except jwt.PyJWTError as exc:
            log.warning("unusable JWKS key skipped", kid=kid, error=str(exc))
            continue
        if isinstance(key, rsa.RSAPublicKey):
            keys[kid] = key
    return keys
