"""Reading back end to end: the decider, a publisher and the projector as processes, the API
in-process, and the YouTube, X and webhook fakes, all on the test's topics and schema."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient, TestServer

from api.app import create_app
from api.auth.keystore import KeyStore
from api.auth.tokens import issue_token
from schemas.commands import EnqueueItem
from schemas.ids import aggregate_id_for, command_id_for
from schemas.publishing import CompletePublish, StartPublish
from streams.publishing import ids
from tests.fakes.webhook import FakeWebhookReceiver
from tests.fakes.x import FakeX
from tests.fakes.youtube import FakeYouTube
from tests.integration.publishing.harness import whsec
from tests.integration.streams.helpers import TEST_SESSION_TIMEOUT, Worker, addressing, creating
from tests.integration.streams.helpers import send_commands as produce_commands
from tests.processes import Child
from vault import keytable
from vault.keyring import generate_entry
from wavestack.settings import Settings

ORG = "org-a"
SCOPES = ["connections:write", "queue:write", "read"]
X_TOKEN = "x-read-back-token"
YOUTUBE_TOKEN = "yt-read-back-token"
# Small values so rounds come every second; the window is set per test.
FAST = {
    "metrics_early_interval_seconds": 1.0,
    "metrics_late_interval_seconds": 1.0,
    "metrics_early_period_seconds": 60.0,
    "metrics_tick_seconds": 0.2,
}

Row = dict[str, Any]


@dataclass
class MetricsStack:
    settings: Settings
    youtube: FakeYouTube
    x: FakeX
    receiver: FakeWebhookReceiver
    api: TestClient[Any, Any]
    children: list[Child] = field(default_factory=list)

    @classmethod
    async def start(cls, settings: Settings, folder: Path, window: float) -> MetricsStack:
        youtube, x = FakeYouTube(YOUTUBE_TOKEN), FakeX(X_TOKEN)
        receiver = FakeWebhookReceiver(whsec())
        for fake in (youtube, x, receiver):
            await fake.start()
        overrides = {
            **FAST,
            "metrics_window_seconds": window,
            "secret_key": generate_entry("k1"),
            "egress_allow_private": True,
            "platform_youtube_base_url": youtube.base_url,
            "platform_x_base_url": x.base_url,
            "worker_session_timeout_seconds": TEST_SESSION_TIMEOUT,
            "publish_read_timeout_seconds": 3.0,
        }
        s = Settings(**{**settings.model_dump(), **overrides})
        api: TestClient[Any, Any] = TestClient(TestServer(create_app(s)))
        await api.start_server()
        stack = cls(s, youtube, x, receiver, api)
        folder.mkdir(parents=True, exist_ok=True)
        decider = Worker(s.model_copy(update={"worker_data_dir": folder / "decider"}), folder)
        publisher = Worker(
            s.model_copy(update={"worker_data_dir": folder / "publisher"}), folder, "publisher"
        )
        projector = Child("projector", s, folder)
        stack.children = [decider, publisher, projector]
        for child in stack.children:
            await child.start()
        await decider.ready()
        await publisher.ready()
        return stack

    async def stop(self) -> None:
        for child in reversed(self.children):
            await child.stop()
        await self.api.close()
        for fake in (self.youtube, self.x, self.receiver):
            await fake.stop()
        conn = await asyncpg.connect(self.settings.dsn)
        try:
            schema = keytable.key_schema(self.settings.db_schema)
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    def output(self) -> str:
        return "\n".join(c.output()[-3000:] for c in self.children)

    def headers(self, org: str = ORG, key: str | None = None) -> dict[str, str]:
        token = issue_token(
            KeyStore(self.settings.auth_keys_dir),
            org=org,
            sub="alice",
            scopes=SCOPES,
            ttl=600,
            issuer=self.settings.auth_issuer,
            audience=self.settings.auth_audience,
        )
        return {"Authorization": f"Bearer {token}"} | ({"Idempotency-Key": key} if key else {})

    async def get(self, path: str, org: str = ORG) -> tuple[int, Any]:
        resp = await self.api.get(path, headers=self.headers(org))
        return resp.status, await resp.json()

    async def until(self, path: str, ready: Callable[[int, Any], bool], timeout: float = 60) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            status, body = await self.get(path)
            if ready(status, body):
                return body
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{path}: {status} {body}\n{self.output()}")
            await asyncio.sleep(0.2)

    async def applied(self, accepted: Any) -> None:
        outcome = await self.until(
            f"/v1/commands/{accepted['command_id']}",
            lambda s, b: s == 200 and b.get("outcome") != "pending",
        )
        assert outcome["outcome"] == "applied", outcome

    async def connect(self, platform: str, credentials: dict[str, str]) -> str:
        body = {"platform": platform, "name": platform, "credentials": credentials}
        key = uuid.uuid4().hex
        resp = await self.api.post("/v1/connections", json=body, headers=self.headers(key=key))
        assert resp.status == 202, await resp.text()
        accepted = await resp.json()
        await self.applied(accepted)
        return str(accepted["id"])

    async def queue(self, platform: str, connection_id: str, title: str) -> str:
        """An item due now, through the API: the publisher posts it."""
        body = {
            "platform": platform,
            "title": title,
            "connection_id": connection_id,
            "schedule_at": datetime.now(UTC).isoformat(),
        }
        key = uuid.uuid4().hex
        resp = await self.api.post("/v1/queue", json=body, headers=self.headers(key=key))
        assert resp.status == 202, await resp.text()
        return str((await resp.json())["id"])

    async def published_youtube_video(self, connection_id: str) -> tuple[str, str]:
        """A YouTube item published with a video already on the fake channel.

        The publisher cannot upload yet (items' assets are not resolved to files), so
        the test makes the attempt's reports itself, in one batch behind the enqueue:
        the decider applies them before the publisher's own attempt reports (which the
        decider then answers as duplicates).
        """
        video = self.youtube.add_video()
        key = uuid.uuid4().hex
        enqueue = EnqueueItem(
            platform="youtube",
            title="Uploaded elsewhere",
            schedule_at=datetime.now(UTC) - timedelta(seconds=1),
            connection_id=uuid.UUID(connection_id),
            connection_platform="youtube",
        )
        item = aggregate_id_for(command_id_for(ORG, key))
        start = StartPublish(
            attempt=1,
            attempt_id=ids.attempt_id(item, 1),
            adapter="youtube",
            fingerprint="test-upload",
        )
        url = f"https://www.youtube.com/watch?v={video}"
        complete = CompletePublish(attempt=1, post_id=video, url=url)
        batch = [creating(ORG, key, enqueue), addressing(ORG, item, start)]
        batch.append(addressing(ORG, item, complete))
        await produce_commands(self.settings, batch)
        return str(item), video

    async def post_of(self, item_id: str, ready: Callable[[Row], bool] = bool) -> Row:
        body = await self.until(
            f"/v1/posts?queue_item_id={item_id}",
            lambda s, b: s == 200 and bool(b["items"]) and ready(b["items"][0]),
        )
        return dict(body["items"][0])
