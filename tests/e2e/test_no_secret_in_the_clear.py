"""No credential in the clear anywhere: topics, DLQ, changelogs, tables, logs, HTTP answers.

Every process runs as a child (API, decider, publisher, projector) at log level
debug, so everything any of them logs is in a file we read. Connections for every
platform are made through the real API with secrets carrying one unique tag; a post
goes out through a webhook connection, another fails on a wrong secret (401), a
poison command reaches the DLQ, and the API refuses bad bodies that contain the tag.
Then every place is read in full and searched for the tag and the encoded secrets.
Items are queued only on webhook connections to the local fake: nothing leaves
127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from api.auth.cli import issue_token_from_settings
from tests.bench.harness import wait_http
from tests.e2e.cleartext import Haystack, read_tables, read_topics
from tests.fakes.webhook import FakeWebhookReceiver
from tests.integration.streams.helpers import produce
from tests.isolation import isolated_read_model, own_settings
from tests.processes import Child, free_port
from vault import keytable
from vault.keyring import generate_entry
from wavestack.settings import Settings

ORG = "org-cleartext"
SCOPES = "queue:write connections:write read audit:read"


@dataclass
class Running:
    settings: Settings
    base: str
    children: list[Child]
    http: aiohttp.ClientSession
    answers: Haystack = field(default_factory=Haystack)

    async def call(self, method: str, path: str, body: Any = None, key: str = "") -> Any:
        """One API call; its status line, headers and body are kept for the search."""
        token = issue_token_from_settings(
            self.settings, org=ORG, sub="bot", scope=SCOPES, ttl=600, kind="bot"
        )
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        async with self.http.request(method, self.base + path, json=body, headers=headers) as r:
            raw = await r.read()
            head = "\n".join(f"{k}: {v}" for k, v in r.headers.items() if k != "Authorization")
            self.answers.add(f"http {method} {path}", f"{r.status}\n{head}\n".encode() + raw)
            assert r.status < 500, raw
            return r.status, (await r.json(content_type=None) if raw else None)

    async def until(self, path: str, status: str, timeout: float = 90.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            code, body = await self.call("GET", path)
            if code == 200 and body.get("status") == status:
                return dict(body)
            if asyncio.get_running_loop().time() > deadline:
                logs = "\n".join(c.output()[-1500:] for c in self.children)
                raise AssertionError(f"{path} never {status}: {body}\n{logs}")
            await asyncio.sleep(0.3)


@pytest.fixture
async def running(base_settings: Settings, tmp_path: Path) -> AsyncIterator[Running]:
    settings = own_settings(
        base_settings,
        tmp_path,
        "e2e",
        api_port=free_port(),
        secret_key=generate_entry("clear1"),
        egress_allow_private=True,
        publish_retry_base_seconds=0.3,
        log_level="debug",
        log_format="json",
    )
    async with isolated_read_model(settings):
        conn = await asyncpg.connect(settings.dsn)
        try:
            await keytable.create_table(conn, settings.db_schema)
        finally:
            await conn.close()
        # Each worker its own data directory: static membership names a process by it.
        children = [
            Child("api", settings, tmp_path),
            Child(
                "worker",
                settings,
                tmp_path,
                args=("--role", "decider"),
                name="decider",
                WAVESTACK_WORKER_DATA_DIR=str(tmp_path / "decider"),
            ),
            Child("publisher", settings, tmp_path, WAVESTACK_WORKER_DATA_DIR=str(tmp_path / "pub")),
            Child("projector", settings, tmp_path),
        ]
        for child in children:
            await child.start()
        base = f"http://127.0.0.1:{settings.api_port}"
        http = aiohttp.ClientSession()
        try:
            await wait_http(f"{base}/readyz")
            yield Running(settings, base, children, http)
        finally:
            await http.close()
            for child in children:
                await child.stop()
            conn = await asyncpg.connect(settings.dsn)
            try:
                schema = keytable.key_schema(settings.db_schema)
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                await conn.close()


def whsec(text: str) -> str:
    return "whsec_" + base64.b64encode(text.encode()).decode()


async def test_no_credential_is_anywhere_in_the_clear_after_posting_failing_and_refusing(
    running: Running,
) -> None:
    tag = "sekrit" + uuid.uuid4().hex
    good, bad = whsec(f"good-{tag}"), whsec(f"bad-{tag}")
    receiver = FakeWebhookReceiver(good)
    await receiver.start()
    try:
        needles = [tag, good.removeprefix("whsec_"), bad.removeprefix("whsec_")]
        bodies = {
            "hook": {
                "platform": "webhook",
                "credentials": {"url": receiver.url(tag), "secret": good},
            },
            "wrong": {"platform": "webhook", "credentials": {"url": receiver.url(), "secret": bad}},
            "discord": {
                "platform": "discord",
                "credentials": {"webhook_url": f"https://discord.com/api/webhooks/42/{tag}"},
            },
            "youtube": {
                "platform": "youtube",
                "credentials": {
                    "access_token": f"ya29.{tag}",
                    "refresh_token": f"1//{tag}",
                    "client_id": f"cid-{tag}",
                    "client_secret": f"GOCSPX-{tag}",
                },
            },
            "x": {"platform": "x", "credentials": {"access_token": f"x-{tag}"}},
        }
        ids: dict[str, str] = {}
        for name, body in bodies.items():
            status, answer = await running.call(
                "POST", "/v1/connections", {**body, "name": name}, key=f"conn-{name}"
            )
            assert status == 202, answer
            ids[name] = answer["id"]

        # Refusals that hold a credential in their request.
        refusals: list[tuple[dict[str, Any], str]] = [
            ({"platform": "webhook", "name": "n", "credentials": {"url": receiver.url(),
              "secret": f"not-whsec-{tag}"}}, "bad-secret"),
            ({"platform": "webhook", "name": "n", "credentials": {"url": f"ftp://{tag}.example/",
              "secret": good}}, "bad-url"),
            ({"platform": "x", "name": "n", "credentials": {"access_token": "t",
              f"extra_{tag}": tag}}, "unknown-field"),
            ({**bodies["x"], "name": "x", "credentials": {"access_token": f"other-{tag}"}},
             "conn-x"),
        ]  # fmt: skip
        for body, key in refusals:
            status, _ = await running.call("POST", "/v1/connections", body, key=key)
            assert status == 422
        status, _ = await running.call(
            "POST",
            "/v1/queue",
            {"platform": "webhook", "title": "t", "connection_id": ids["discord"]},
            key="mismatch",
        )
        assert status == 422

        now = datetime.now(UTC).isoformat()
        items = {}
        for name in ("hook", "wrong"):
            body = {"platform": "webhook", "title": f"via {name}", "connection_id": ids[name]}
            status, answer = await running.call(
                "POST", "/v1/queue", {**body, "schedule_at": now}, key=f"item-{name}"
            )
            assert status == 202, answer
            items[name] = answer["id"]
        published = await running.until(f"/v1/queue/{items['hook']}", "published")
        failed = await running.until(f"/v1/queue/{items['wrong']}", "failed")
        assert published["post"] is not None
        assert failed["error_class"] == "permanent"
        assert len(receiver.deliveries) == 1
        await running.call("GET", f"/v1/queue/{items['wrong']}")
        await running.call("GET", "/v1/connections")
        await running.call("GET", f"/v1/audit?aggregate_id={ids['hook']}")
        status, _ = await running.call("DELETE", f"/v1/connections/{ids['youtube']}")
        assert status == 202

        # A poison command: the decider puts it on the DLQ.
        await produce(running.settings, [(b"poison", b"{not json")])
        settings = running.settings
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        found = Haystack()
        while not found.count(f"topic {settings.topics.dlq}") and datetime.now(UTC) < deadline:
            await asyncio.sleep(0.5)
            found = Haystack()
            await read_topics(settings.kafka_bootstrap, settings.topic_prefix, found)
        for child in running.children:
            assert await child.stop() == 0, child.output()[-3000:]
    finally:
        await receiver.stop()

    everything = Haystack()
    topics = await read_topics(settings.kafka_bootstrap, settings.topic_prefix, everything)
    key_schema = keytable.key_schema(settings.db_schema)
    await read_tables(settings.dsn, [settings.db_schema, key_schema], everything)
    for child in running.children:
        everything.add(f"log {child.log_path.name}", child.log_path.read_bytes())
    everything.blobs.update(running.answers.blobs)

    # The search read real places: records of each kind of topic, rows, logs, answers.
    for topic in (settings.topics.commands, settings.topics.events, settings.topics.dlq):
        assert everything.count(f"topic {topic}") > 0, topic
    changelogs = [t for t in topics if t.endswith("-changelog")]
    assert changelogs and sum(everything.count(f"topic {t}") for t in changelogs) > 0
    assert everything.count(f"table {key_schema}.") >= 4  # five connections, one shredded
    assert len(everything.places(f"table {settings.db_schema}.")) >= 5
    logs = {c.log_path.name: c.output() for c in running.children}
    assert all(len(text) > 200 for text in logs.values()), logs
    assert "message_dead_lettered" in logs["decider.log"]
    assert "publish_succeeded" in logs["publisher.log"]
    assert everything.count("http ") >= 10
    assert everything.find(needles) == []
