"""A subscriber's endpoint that records every request, and the stack webhooks run on.

The stack is the API (in the test's loop), the decider and the projector (child
processes) and the delivery process (in the test's loop, so a test can stop it), all
on the test's topics and schema.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestClient
from standardwebhooks.webhooks import Webhook

from streams.publishing.signing import verify
from streams.webhooks import store
from streams.webhooks.app import WebhookProcess
from tests.processes import Child
from vault import keytable
from vault.keyring import KeyRing
from wavestack.settings import Settings


@dataclass(frozen=True)
class Request:
    name: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def verified(self, secret: str) -> Any:
        """The payload, checked by the reference library and by our own verifier."""
        payload = Webhook(secret).verify(self.body, self.headers)
        assert verify(secret, self.headers, self.body, time.time()) == self.webhook_id
        return payload


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    sleep: float = 0.0


class Receiver:
    """`POST /hooks/{name}`: answers from a per-name script (else 200), records all."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.app.router.add_post("/hooks/{name}", self._hook)
        self.requests: list[Request] = []
        self.script: dict[str, deque[Answer]] = defaultdict(deque)
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> None:
        self.runner = web.AppRunner(self.app, shutdown_timeout=0.2, handler_cancellation=True)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def url(self, name: str) -> str:
        return f"{self.base}/hooks/{name}"

    def of(self, name: str) -> list[Request]:
        return [r for r in self.requests if r.name == name]

    async def wait_for(self, name: str, count: int = 1, timeout: float = 30.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        while len(self.of(name)) < count:
            assert time.monotonic() < deadline, f"{name}: {len(self.of(name))} of {count}"
            await asyncio.sleep(0.05)
        return self.of(name)

    async def _hook(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(Request(name, headers, body, time.monotonic()))
        answer = self.script[name].popleft() if self.script[name] else Answer()
        if answer.sleep:
            await asyncio.sleep(answer.sleep)
        return web.Response(status=answer.status, headers=answer.headers)


@dataclass
class Stack:
    settings: Settings
    client: TestClient[Any, Any]
    children: list[Child]
    ring: KeyRing
    process: WebhookProcess | None = None
    task: asyncio.Task[None] | None = None

    async def start_delivery(self) -> None:
        self.process = WebhookProcess(self.settings, self.ring)
        self.task = asyncio.create_task(self.process.run())
        await asyncio.sleep(0)

    async def stop_delivery(self) -> None:
        if self.process is not None and self.task is not None:
            self.process.stop()
            await asyncio.wait_for(self.task, 30)
            self.process = None

    async def eventually(
        self, path: str, headers: dict[str, str], ready: Any, timeout: float = 60.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            resp = await self.client.get(path, headers=headers)
            body = await resp.json()
            if ready(resp.status, body):
                return dict(body)
            assert time.monotonic() < deadline, f"{path}: {resp.status} {body}"
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        await self.stop_delivery()
        for child in self.children:
            await child.stop()
        conn = await asyncpg.connect(self.settings.dsn)
        try:
            for schema in (
                keytable.key_schema(self.settings.db_schema),
                store.schema_of(self.settings.db_schema),
            ):
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


async def start_children(settings: Settings, folder: Path) -> list[Child]:
    children = [
        Child("worker", settings, folder, args=("--role", "decider"), name="decider"),
        Child("projector", settings, folder),
    ]
    for child in children:
        await child.start()
    return children
