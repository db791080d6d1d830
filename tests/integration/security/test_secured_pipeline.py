"""The whole write path through a SASL_SSL (SCRAM-SHA-512) listener and nothing else.

`wavestack topics`, the API's producer, the decider, the media process, the
publisher (its changelog topics too) and the projector all reach the broker only
through the listener that wants TLS and a SCRAM login; the broker has no client
listener in the clear.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from api.app import create_app
from api.auth.cli import issue_token_from_settings
from projections.migrate import migrate
from tests.processes import Child, settings_env
from vault import keytable
from vault.keyring import generate_entry
from wavestack.settings import Settings

pytestmark = pytest.mark.slow

READY = "Worker ready"


@pytest.fixture
async def settings(secure_settings: Callable[..., Settings]) -> AsyncIterator[Settings]:
    settings = secure_settings(secret_key=generate_entry("sec1"))
    conn = await asyncpg.connect(settings.dsn)
    try:
        await migrate(conn, settings.db_schema)
        await keytable.create_table(conn, settings.db_schema)
    finally:
        await conn.close()
    try:
        yield settings
    finally:
        conn = await asyncpg.connect(settings.dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE')
        finally:
            await conn.close()


async def eventually(
    client: TestClient[Any, Any], path: str, headers: dict[str, str], ready: Callable[..., bool]
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        async with client.get(path, headers=headers) as resp:
            body: dict[str, Any] = await resp.json(content_type=None)
            if ready(resp.status, body):
                return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"GET {path} never became ready; last {resp.status}: {body}")
        await asyncio.sleep(0.2)


async def test_a_command_is_decided_and_projected_through_sasl_ssl_only(
    settings: Settings, tmp_path: Path
) -> None:
    topics = subprocess.run(
        [sys.executable, "-m", "wavestack.cli", "topics"],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert topics.returncode == 0, topics.stderr
    assert settings.topics.commands in topics.stderr + topics.stdout

    decider = Child("worker", settings, tmp_path, args=["--role", "decider"], name="decider")
    media = Child("worker", settings, tmp_path, args=["--role", "media"], name="media")
    projector = Child("projector", settings, tmp_path)
    publisher = Child("publisher", settings, tmp_path)
    children = (decider, media, projector, publisher)
    for child in children:
        await child.start()
    try:
        await decider.wait_for_output(READY, timeout=90)
        await media.wait_for_output(READY, timeout=90)
        # The publisher creates its changelog topics through the admin API as well.
        await publisher.wait_for_output(READY, timeout=90)

        token = issue_token_from_settings(
            settings, org="org-a", sub="bot-1", scope="queue:write read", ttl=600, kind="bot"
        )
        headers = {"Authorization": f"Bearer {token}"}
        async with TestClient(TestServer(create_app(settings), host="127.0.0.1")) as client:
            async with client.post(
                "/v1/queue",
                json={"platform": "youtube", "title": "Over TLS"},
                headers={**headers, "Idempotency-Key": "sec-pipeline"},
            ) as resp:
                assert resp.status == 202, await resp.text()
                accepted = await resp.json()
            outcome = await eventually(
                client,
                f"/v1/commands/{accepted['command_id']}",
                headers,
                lambda status, body: status == 200 and body.get("outcome") != "pending",
            )
            assert outcome["outcome"] == "applied"
            item = await eventually(
                client, f"/v1/queue/{accepted['id']}", headers, lambda status, _: status == 200
            )
            assert item["title"] == "Over TLS"
    finally:
        codes = [await child.stop() for child in children]
    assert codes == [0, 0, 0, 0], "\n".join(c.output()[-2000:] for c in children)
    password = settings.kafka_sasl_password
    assert password is not None
    for child in children:
        # The processes logged in with it; none wrote it down.
        assert password.get_secret_value() not in child.output()
