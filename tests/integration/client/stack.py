"""A whole stack for SDK and MCP tests: API in-process, decider, publisher and projector
as child processes, a local Standard Webhooks receiver to publish to.

Module-scoped: one stack per test module (the processes take seconds to start).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from api.app import create_app
from api.auth.cli import issue_token_from_settings
from client import NotFound, WaveStack
from clipper.paths import MediaRoot
from tests.fakes.webhook import FakeWebhookReceiver
from tests.isolation import isolated_read_model, own_settings
from tests.processes import Child
from vault import keytable
from vault.keyring import generate_entry
from wavestack.settings import Settings

ALL_SCOPES = "queue:write clips:write projects:write assets:write connections:write read audit:read"
SECRET = "whsec_" + base64.b64encode(b"sdk-test-secret-0123456789").decode()


@dataclass
class SdkStack:
    settings: Settings
    base_url: str
    receiver: FakeWebhookReceiver
    children: list[Child]
    servers: list[TestServer]
    tmp: Path

    def token(self, org: str = "org-a", scope: str = ALL_SCOPES, sub: str = "bot-1") -> str:
        return issue_token_from_settings(
            self.settings, org=org, sub=sub, scope=scope, ttl=600, kind="bot"
        )

    def client(self, org: str = "org-a", scope: str = ALL_SCOPES, **kwargs: Any) -> WaveStack:
        return WaveStack(self.base_url, token=self.token(org, scope), **kwargs)

    async def api(self, **overrides: Any) -> str:
        """Another API process-alike on the same topics and schema (e.g. tiny limits)."""
        settings = Settings(**{**self.settings.model_dump(), **overrides})
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        self.servers.append(server)
        return str(server.make_url("")).rstrip("/")

    def media(self, org: str) -> Path:
        """The organization's media space (made if missing), as the API names it."""
        root = MediaRoot(self.settings.media_root).space(org).root
        root.mkdir(parents=True, exist_ok=True)
        return root

    def logs(self) -> str:
        return "\n".join(f"--- {c.command}\n{c.output()[-2000:]}" for c in self.children)


async def eventually(
    probe: Callable[[], Awaitable[Any]], ready: Callable[[Any], bool], timeout: float = 60.0
) -> Any:
    """Polls ``probe`` until ``ready`` holds for its answer; fails with the last one.
    A 404 is "not projected yet": the read model is eventually consistent."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            value = await probe()
        except NotFound as exc:
            value = exc
        if not isinstance(value, NotFound) and ready(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never ready; last: {value!r}")
        await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
async def sdk_stack(
    base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[SdkStack]:
    tmp = tmp_path_factory.mktemp("sdk")
    settings = own_settings(
        base_settings,
        tmp,
        "sdk",
        secret_key=generate_entry("sdk1"),
        egress_allow_private=True,
        publish_retry_base_seconds=0.2,
        publish_max_attempts=2,
    )
    receiver = FakeWebhookReceiver(SECRET)
    await receiver.start()
    async with isolated_read_model(settings):
        conn = await asyncpg.connect(settings.dsn)
        try:
            await keytable.create_table(conn, settings.db_schema)
        finally:
            await conn.close()
        children = [
            Child("worker", settings, tmp, WAVESTACK_WORKER_DATA_DIR=str(tmp / "worker")),
            Child("publisher", settings, tmp, WAVESTACK_WORKER_DATA_DIR=str(tmp / "pub")),
            Child("projector", settings, tmp),
        ]
        for child in children:
            await child.start()
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        stack = SdkStack(
            settings, str(server.make_url("")).rstrip("/"), receiver, children, [server], tmp
        )
        try:
            yield stack
        finally:
            for s in stack.servers:
                await s.close()
            for child in children:
                await child.stop()
            await receiver.stop()
            conn = await asyncpg.connect(settings.dsn)
            try:
                schema = keytable.key_schema(settings.db_schema)
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                await conn.close()
