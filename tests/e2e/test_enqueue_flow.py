"""EnqueueItem end to end, as a bot sees it: HTTP in, Kafka, decider, projector, HTTP out."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.e2e.conftest import Stack


def found(status: int, body: dict[str, Any]) -> bool:
    return status == 200


def decided(status: int, body: dict[str, Any]) -> bool:
    return status == 200 and body.get("outcome") != "pending"


async def test_an_enqueued_item_becomes_visible_with_an_applied_outcome(stack: Stack) -> None:
    status, accepted = await stack.post(
        "/v1/queue", {"platform": "youtube", "title": "Launch day"}, key="e2e-visible"
    )
    assert status == 202
    assert accepted["status"] == "accepted"

    item = await stack.eventually(f"/v1/queue/{accepted['id']}", found)
    assert item["title"] == "Launch day"
    assert item["status"] == "scheduled"

    outcome = await stack.eventually(f"/v1/commands/{accepted['command_id']}", decided)
    assert outcome["outcome"] == "applied"


async def test_twenty_concurrent_retries_make_one_item(stack: Stack) -> None:
    body = {"platform": "x", "title": "Only once"}
    answers = await asyncio.gather(
        *(stack.post("/v1/queue", body, key="e2e-twenty") for _ in range(20))
    )
    assert {status for status, _ in answers} == {202}
    assert len({a["id"] for _, a in answers}) == 1
    assert len({a["command_id"] for _, a in answers}) == 1

    item_id = answers[0][1]["id"]
    outcome = await stack.eventually(f"/v1/commands/{answers[0][1]['command_id']}", decided)
    assert outcome["outcome"] == "applied"
    assert len(outcome["event_ids"]) == 1
    # The item's whole history: one ItemEnqueued, not one per retry.
    history = await stack.eventually(f"/v1/audit?aggregate_id={item_id}", found)
    assert [e["type"] for e in history["items"]] == ["queue.ItemEnqueued"]


async def test_the_same_key_with_another_body_is_refused_once_the_first_is_known(
    stack: Stack,
) -> None:
    status, first = await stack.post(
        "/v1/queue", {"platform": "x", "title": "First"}, key="e2e-conflict"
    )
    assert status == 202
    await stack.eventually(f"/v1/commands/{first['command_id']}", decided)
    status, problem = await stack.post(
        "/v1/queue", {"platform": "x", "title": "Second"}, key="e2e-conflict"
    )
    assert status == 422
    assert problem["status"] == 422


async def test_the_same_key_in_two_organizations_makes_two_items(stack: Stack) -> None:
    body = {"platform": "discord", "title": "Shared key"}
    _, a = await stack.post("/v1/queue", body, org="org-a", key="e2e-shared")
    _, b = await stack.post("/v1/queue", body, org="org-b", key="e2e-shared")
    assert a["id"] != b["id"]
    await stack.eventually(f"/v1/queue/{a['id']}", found, org="org-a")
    await stack.eventually(f"/v1/queue/{b['id']}", found, org="org-b")
    status, _ = await stack.get(f"/v1/queue/{a['id']}", org="org-b")
    assert status == 404


async def test_a_cancelled_item_shows_cancelled_and_cannot_be_rescheduled(stack: Stack) -> None:
    _, item = await stack.post(
        "/v1/queue",
        {"platform": "webhook", "title": "Maybe", "schedule_at": "2030-01-01T10:00:00+01:00"},
        key="e2e-cancel",
    )
    await stack.eventually(f"/v1/queue/{item['id']}", found)
    status, _ = await stack.post(f"/v1/queue/{item['id']}/cancel", {})
    assert status == 202
    cancelled = await stack.eventually(
        f"/v1/queue/{item['id']}", lambda s, b: b.get("status") == "cancelled"
    )
    assert cancelled["status"] == "cancelled"
    status, _ = await stack.post(
        f"/v1/queue/{item['id']}/reschedule", {"schedule_at": "2031-01-01T00:00:00Z"}
    )
    assert status == 409
