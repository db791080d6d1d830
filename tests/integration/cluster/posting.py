"""Items that really go out: a webhook connection on the local receiver, items due at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from tests.fakes.webhook import FakeWebhookReceiver
from tests.integration.cluster.fleet import Member

DUE_AFTER_S = 1.0


async def create_connection(api: Member, token: str, receiver: FakeWebhookReceiver) -> str:
    """A webhook connection to ``receiver``, once the read model has it (items name it)."""
    body = {
        "platform": "webhook",
        "name": "Fleet hook",
        "credentials": {"url": receiver.url("fleet"), "secret": receiver.secret},
    }
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "fleet-connection"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api.base_url}/v1/connections", json=body, headers=headers) as r:
            assert r.status == 202, await r.text()
            connection_id = str((await r.json())["id"])
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            async with http.get(
                f"{api.base_url}/v1/connections/{connection_id}", headers=headers
            ) as r:
                if r.status == 200:
                    return connection_id
            assert asyncio.get_running_loop().time() < deadline, "connection never projected"
            await asyncio.sleep(0.3)


def item(connection_id: str) -> Callable[[int], dict[str, Any]]:
    """The body of item ``i``: through the connection, due a second after it is sent."""

    def body(i: int) -> dict[str, Any]:
        due = datetime.now(UTC) + timedelta(seconds=DUE_AFTER_S)
        return {
            "platform": "webhook",
            "title": f"Fleet post {i}",
            "connection_id": connection_id,
            "schedule_at": due.isoformat(),
        }

    return body
