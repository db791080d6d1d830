"""Events reach subscribers signed (Standard Webhooks), and every attempt is on the log."""

from __future__ import annotations

import time
from typing import Any

from tests.integration.webhooks.conftest import SCOPES, Headers
from tests.integration.webhooks.helpers import deliveries, make_project, subscribe
from tests.integration.webhooks.support import Answer, Receiver, Stack

INTERNAL = {"command_id", "correlation_id", "causation_id", "actor", "org_id"}


async def test_a_subscribed_event_is_delivered_signed_and_listed_as_delivered(
    stack: Stack, receiver: Receiver, bearer: Headers
) -> None:
    h = bearer(scopes=SCOPES)
    created = await subscribe(stack, h, receiver.url("main"))
    assert created["secret"].startswith("whsec_")
    shown = await (await stack.client.get(f"/v1/webhooks/{created['id']}", headers=h)).json()
    assert "secret" not in shown and created["secret"] not in str(shown)
    assert shown["status"] == "active" and shown["event_types"] == ["project.ProjectCreated"]

    project_id = await make_project(stack, h)
    [request] = await receiver.wait_for("main")
    payload = request.verified(created["secret"])
    assert payload["type"] == "project.ProjectCreated"
    assert payload["aggregate_id"] == project_id
    assert payload["data"] == {"name": "Demo"}
    assert payload["id"] == request.webhook_id  # webhook-id is the event id
    assert not INTERNAL & set(payload)
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60

    [row] = await deliveries(stack, h, created["id"], lambda items: bool(items))
    assert row["status"] == "delivered"
    assert row["event_id"] == request.webhook_id
    assert row["attempts"] == 1 and row["response_codes"] == [200]
    assert row["next_attempt_at"] is None


async def test_retries_follow_the_schedule_and_retry_after_then_the_delivery_is_dead(
    stack: Stack, receiver: Receiver, bearer: Headers
) -> None:
    h = bearer(scopes=SCOPES)
    created = await subscribe(stack, h, receiver.url("flaky"))
    receiver.script["flaky"].extend([Answer(429, {"Retry-After": "2"}), Answer(500), Answer(503)])
    await make_project(stack, h)

    tries = await receiver.wait_for("flaky", 3, timeout=30)
    # The schedule says 0.3 s; the receiver asked for 2 s, and got at least that.
    assert tries[1].at - tries[0].at >= 1.9
    assert tries[2].at - tries[1].at >= 0.25
    assert len({t.webhook_id for t in tries}) == 1  # one delivery, one webhook-id
    for attempt in tries:
        attempt.verified(created["secret"])

    def dead(items: list[dict[str, Any]]) -> bool:
        return bool(items) and items[0]["status"] == "dead"

    [row] = await deliveries(stack, h, created["id"], dead)
    assert row["attempts"] == 3
    assert row["response_codes"] == [429, 500, 503]
    assert row["next_attempt_at"] is None
    await receiver.wait_for("flaky", 3)
    assert len(receiver.of("flaky")) == 3  # nothing after the last try


async def test_an_endpoint_that_answers_410_disables_its_subscription(
    stack: Stack, receiver: Receiver, bearer: Headers
) -> None:
    h = bearer(scopes=SCOPES)
    created = await subscribe(stack, h, receiver.url("gone"))
    receiver.script["gone"].append(Answer(410))
    await make_project(stack, h)
    await receiver.wait_for("gone")

    hook = await stack.eventually(
        f"/v1/webhooks/{created['id']}", h, lambda s, b: b.get("status") == "disabled"
    )
    assert "410" in hook["disabled_reason"]
    [row] = await deliveries(stack, h, created["id"], lambda items: bool(items))
    assert row["status"] == "disabled" and row["response_codes"] == [410]

    await make_project(stack, h, "After")
    # A second subscriber proves the new event went out while the disabled one got none.
    other = await subscribe(stack, h, receiver.url("witness"))
    await make_project(stack, h, "Witnessed")
    [seen] = await receiver.wait_for("witness")
    seen.verified(other["secret"])
    assert len(receiver.of("gone")) == 1
