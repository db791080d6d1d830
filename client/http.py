"""The HTTP core: bearer tokens, problem+json to exceptions, bounded jittered retries."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from client.errors import (
    ApiError,
    RateLimited,
    RetryableError,
    Unauthorized,
    Unavailable,
    error_for,
)

TokenProvider = Callable[[], Awaitable[str]]
Params = Mapping[str, str | int | float | bool | uuid.UUID | datetime | None]
# Connection failures worth another try for a request that is safe to repeat.
TRANSIENT = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry 429/503/connection failures.

    With ``Retry-After`` the client waits that long plus a little jitter (so a crowd of
    bots told "1 s" does not come back in the same millisecond); without it, full-jitter
    exponential backoff. A ``Retry-After`` over ``max_wait`` is not waited for: the error
    is raised, since the caller's own deadline is better placed to decide.
    """

    attempts: int = 5
    base: float = 0.25
    max_wait: float = 30.0
    jitter: float = 0.2
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before try ``attempt + 1``, or None to give up."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            if retry_after > self.max_wait:
                return None
            return retry_after + self.rng.uniform(0, self.jitter * max(retry_after, 0.25))
        return self.rng.uniform(0, min(self.max_wait, self.base * 2**attempt))


@dataclass(frozen=True)
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def query(params: Params | None) -> dict[str, str]:
    """Query parameters as the API reads them: None left out, booleans lower case."""
    out: dict[str, str] = {}
    for name, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            out[name] = value.isoformat()
        else:
            out[name] = str(value)
    return out


def problem_of(reply: Reply) -> dict[str, Any]:
    try:
        doc = reply.json()
    except ValueError:
        return {"detail": reply.body[:200].decode(errors="replace")}
    return doc if isinstance(doc, dict) else {}


class Http:
    """One aiohttp session against one API; every request goes through ``call``."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        token_provider: TokenProvider | None,
        session: aiohttp.ClientSession | None,
        retry: RetryPolicy,
        timeout: float,
    ) -> None:
        if (token is None) == (token_provider is None):
            raise ValueError("give exactly one of token or token_provider")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._provider = token_provider
        self._own_session = session is None
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.retry = retry

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def bearer(self, *, fresh: bool = False) -> str:
        if self._provider is not None and (fresh or self._token is None):
            self._token = await self._provider()
        assert self._token is not None
        return self._token

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    async def send(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Params | None = None,
        data: bytes | None = None,
        fresh_token: bool = False,
    ) -> Reply:
        """One request, no retries; connection errors propagate."""
        all_headers = {"Authorization": f"Bearer {await self.bearer(fresh=fresh_token)}"}
        all_headers.update(headers or {})
        async with self.session.request(
            method, self.url(path), headers=all_headers, params=query(params), data=data
        ) as resp:
            return Reply(
                resp.status, CIMultiDictProxy(CIMultiDict(resp.headers)), await resp.read()
            )

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Params | None = None,
        retry_safe: bool = True,
    ) -> Reply:
        """A request with retries; an error answer raises its ApiError subclass.

        ``retry_safe``: repeating it cannot do anything twice (a GET, or a command with
        its Idempotency-Key, which every retry carries unchanged); only such a request
        is sent again after a broken connection or a 502/504.
        """
        all_headers = dict(headers or {})
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        attempt, refreshed, fresh = 0, False, False
        while True:
            attempt += 1
            try:
                reply = await self.send(
                    method, path, headers=all_headers, params=params, data=data, fresh_token=fresh
                )
            except TRANSIENT:
                fresh = False
                wait = self.retry.delay(attempt, None) if retry_safe else None
                if wait is None:
                    raise
                await asyncio.sleep(wait)
                continue
            fresh = False
            if reply.status < 400:
                return reply
            error = error_for(reply.status, problem_of(reply), dict(reply.headers))
            if isinstance(error, Unauthorized) and self._provider is not None and not refreshed:
                # The token may have expired: ask the provider once more.
                refreshed = fresh = True
                continue
            await self._wait_or_raise(error, attempt, retry_safe)

    async def _wait_or_raise(self, error: ApiError, attempt: int, retry_safe: bool) -> None:
        # 429/503 are the server refusing before doing anything: always worth another
        # try. A 502/504 came from a proxy: the request may have reached the API.
        if not isinstance(error, RetryableError):
            raise error
        if not (retry_safe or isinstance(error, (RateLimited, Unavailable))):
            raise error
        wait = self.retry.delay(attempt, error.retry_after)
        if wait is None:
            raise error
        await asyncio.sleep(wait)
