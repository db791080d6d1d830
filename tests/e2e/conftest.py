"""A whole running stack per test module: API in-process, worker and projector as processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from api.app import create_app
from api.auth.cli import issue_token_from_settings
from tests.isolation import isolated_read_model, own_settings
from tests.processes import Child
from wavestack.settings import Settings

ALL_SCOPES = "queue:write clips:write projects:write assets:write read audit:read"


@dataclass
class Stack:
    settings: Settings
    base_url: str
    worker: Child
    projector: Child
    http: aiohttp.ClientSession

    def token(self, org: str = "org-a", sub: str = "bot-1", scope: str = ALL_SCOPES) -> str:
        return issue_token_from_settings(
            self.settings, org=org, sub=sub, scope=scope, ttl=600, kind="bot"
        )

    def headers(self, org: str = "org-a", key: str | None = None, **extra: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token(org)}", **extra}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    async def post(
        self, path: str, body: Any, org: str = "org-a", key: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        async with self.http.post(
            self.base_url + path, json=body, headers=self.headers(org, key)
        ) as resp:
            return resp.status, await resp.json(content_type=None)

    async def get(self, path: str, org: str = "org-a") -> tuple[int, dict[str, Any]]:
        async with self.http.get(self.base_url + path, headers=self.headers(org)) as resp:
            return resp.status, await resp.json(content_type=None)

    async def eventually(
        self,
        path: str,
        ready: Callable[[int, dict[str, Any]], bool],
        org: str = "org-a",
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """Polls GET ``path`` until ``ready`` holds (the read model is eventually consistent)."""
        deadline = asyncio.get_running_loop().time() + timeout
        status, body = await self.get(path, org)
        while not ready(status, body):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"GET {path} never became ready; last {status}: {body}")
            await asyncio.sleep(0.1)
            status, body = await self.get(path, org)
        return body


@pytest.fixture(scope="module")
async def stack(
    base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    tmp = tmp_path_factory.mktemp("stack")
    settings = own_settings(base_settings, tmp, "e2e")
    async with isolated_read_model(settings):
        worker = Child("worker", settings, tmp)
        projector = Child("projector", settings, tmp)
        await worker.start()
        await projector.start()
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        http = aiohttp.ClientSession()
        try:
            yield Stack(settings, str(server.make_url("")).rstrip("/"), worker, projector, http)
        finally:
            await http.close()
            await server.close()
            await worker.stop()
            await projector.stop()
