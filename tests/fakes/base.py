"""What every fake platform shares: a server on 127.0.0.1 and a script of bad answers.

A test queues answers per route (`fake.queue("tweet", ...)`); each request to that
route takes the next one. An answer with `stall` is the nastiest case: the platform
does the work (records the post) and only then sleeps before answering, so the
client's timeout fires after the platform accepted.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Scripted:
    status: int = 0  # 0: answer as the platform normally would
    body: Any = None  # JSON-able; None → empty body
    headers: dict[str, str] = field(default_factory=dict)
    # > 0: handle the request normally, then wait this long before answering.
    stall: float = 0.0

    def response(self) -> web.Response:
        if self.body is None:
            return web.Response(status=self.status, headers=self.headers)
        return web.Response(
            status=self.status,
            text=json.dumps(self.body),
            content_type="application/json",
            headers=self.headers,
        )


def stall(seconds: float) -> Scripted:
    return Scripted(stall=seconds)


def normal() -> Scripted:
    """Let one request through untouched (to script the one after it)."""
    return Scripted()


class FakeServer:
    def __init__(self) -> None:
        self.app = web.Application()
        self._script: dict[str, deque[Scripted]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.hits: dict[str, int] = defaultdict(int)

    def queue(self, route: str, *answers: Scripted) -> None:
        self._script[route].extend(answers)

    async def answer(self, route: str, perform: Handler) -> web.StreamResponse:
        self.hits[route] += 1
        scripted = self._script[route].popleft() if self._script[route] else None
        if scripted is not None and scripted.status:
            return scripted.response()
        response = await perform()
        if scripted is not None:
            await asyncio.sleep(scripted.stall)
        return response

    async def start(self) -> str:
        # handler_cancellation: a stalled handler ends when the client gives up. No access
        # log: it is the platform's log, not ours, and its paths carry tokens (Discord),
        # which would blur the test that nothing of ours logs a credential.
        self._runner = web.AppRunner(
            self.app, shutdown_timeout=0.5, handler_cancellation=True, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def read_json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None
