"""Steps the webhook tests share: subscribe, make an event, wait for what follows."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from tests.integration.webhooks.support import Stack


async def subscribe(
    stack: Stack, headers: dict[str, str], url: str, types: list[str] | None = None
) -> dict[str, Any]:
    """Creates a subscription and waits until the read model and the delivery process
    both know it; returns the create answer (with its secret)."""
    body = {"url": url, "event_types": types or ["project.ProjectCreated"]}
    resp = await stack.client.post(
        "/v1/webhooks", json=body, headers=headers | {"Idempotency-Key": uuid.uuid4().hex}
    )
    assert resp.status == 201, await resp.text()
    created = dict(await resp.json())
    await stack.eventually(
        f"/v1/webhooks/{created['id']}", headers, lambda status, _: status == 200
    )
    await known_to_delivery(stack, uuid.UUID(created["id"]))
    return created


async def known_to_delivery(stack: Stack, subscription_id: uuid.UUID, version: int = 1) -> None:
    assert stack.process is not None
    deadline = time.monotonic() + 30
    while True:
        sub = stack.process.registry.by_id.get(subscription_id)
        if sub is not None and sub.version >= version:
            return
        assert time.monotonic() < deadline, "the delivery process never saw the subscription"
        await asyncio.sleep(0.05)


async def make_project(stack: Stack, headers: dict[str, str], name: str = "Demo") -> str:
    """An event for the subscribers (project.ProjectCreated); returns the project id."""
    resp = await stack.client.post(
        "/v1/projects", json={"name": name}, headers=headers | {"Idempotency-Key": uuid.uuid4().hex}
    )
    assert resp.status == 202, await resp.text()
    return str((await resp.json())["id"])


async def deliveries(
    stack: Stack, headers: dict[str, str], webhook_id: str, ready: Any, timeout: float = 30.0
) -> list[dict[str, Any]]:
    page = await stack.eventually(
        f"/v1/webhooks/{webhook_id}/deliveries",
        headers,
        lambda status, body: status == 200 and ready(body["items"]),
        timeout,
    )
    return list(page["items"])
