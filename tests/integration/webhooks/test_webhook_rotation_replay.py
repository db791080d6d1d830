"""Secret rotation (both signatures for 24 h), replay from the log, and isolation."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.integration.webhooks.conftest import SCOPES, Headers
from tests.integration.webhooks.helpers import (
    deliveries,
    known_to_delivery,
    make_project,
    subscribe,
)
from tests.integration.webhooks.support import Answer, Receiver, Stack


async def test_after_a_rotation_both_secrets_sign_and_each_verifies(
    stack: Stack, receiver: Receiver, bearer: Headers
) -> None:
    h = bearer(scopes=SCOPES)
    created = await subscribe(stack, h, receiver.url("rotating"))
    old = created["secret"]
    resp = await stack.client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=h)
    assert resp.status == 202, await resp.text()
    new = (await resp.json())["secret"]
    assert new.startswith("whsec_") and new != old
    hook = await stack.eventually(
        f"/v1/webhooks/{created['id']}", h, lambda s, b: b.get("secret_rotated_at") is not None
    )
    expires = datetime.fromisoformat(hook["previous_secret_expires_at"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)
    assert "secret" not in hook
    await known_to_delivery(stack, uuid.UUID(created["id"]), version=2)

    await make_project(stack, h)
    [request] = await receiver.wait_for("rotating")
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    assert request.verified(new) == request.verified(old)


async def test_a_replay_delivers_the_matching_events_since_a_time_again(
    stack: Stack, receiver: Receiver, bearer: Headers
) -> None:
    h = bearer(scopes=SCOPES)
    created = await subscribe(stack, h, receiver.url("replayed"))
    since = datetime.now(UTC) - timedelta(seconds=1)
    first = await make_project(stack, h, "One")
    second = await make_project(stack, h, "Two")
    live = await receiver.wait_for("replayed", 2)
    resp = await stack.client.post(
        f"/v1/webhooks/{created['id']}/replay", json={"since": since.isoformat()}, headers=h
    )
    assert resp.status == 202, await resp.text()
    command_id = (await resp.json())["command_id"]
    outcome = await stack.eventually(
        f"/v1/commands/{command_id}", h, lambda s, b: s == 200 and b["outcome"] != "pending"
    )
    assert outcome["outcome"] == "applied", outcome

    everything = await receiver.wait_for("replayed", 4)
    replayed = everything[2:]
    assert sorted(r.webhook_id for r in replayed) == sorted(r.webhook_id for r in live)
    assert {r.verified(created["secret"])["aggregate_id"] for r in replayed} == {first, second}
    rows = await deliveries(
        stack, h, created["id"], lambda items: sum(i["replay_id"] is not None for i in items) == 2
    )
    assert {r["status"] for r in rows} == {"delivered"}
    assert len(rows) == 4


async def test_slow_endpoints_of_other_organizations_never_delay_one(
    stack: Stack, receiver: Receiver, bearer: Headers
) -> None:
    # Three stuck subscribers on the same host as the quick one: together they have
    # more requests in flight than a pooled connector allows per host (10).
    slow_orgs = [bearer(scopes=SCOPES, org=f"org-slow-{i}") for i in range(3)]
    quick_org = bearer(scopes=SCOPES, org="org-quick")
    for i, h in enumerate(slow_orgs):
        await subscribe(stack, h, receiver.url(f"slow{i}"))
        receiver.script[f"slow{i}"].extend(Answer(sleep=30.0) for _ in range(20))
    quick = await subscribe(stack, quick_org, receiver.url("quick"))
    # More events than each slow subscription has lanes: their queues back up.
    for i, h in enumerate(slow_orgs):
        for n in range(6):
            await make_project(stack, h, f"Slow {i}.{n}")
    for i in range(3):
        await receiver.wait_for(f"slow{i}", 4)
    started = time.monotonic()
    await make_project(stack, quick_org, "Quick")
    [request] = await receiver.wait_for("quick", timeout=10)
    assert request.at - started < 2.0, f"took {request.at - started:.2f} s"
    request.verified(quick["secret"])
    assert [len(receiver.of(f"slow{i}")) for i in range(3)] == [4, 4, 4]  # still stuck


async def test_a_wrong_secret_does_not_verify(
    stack: Stack, receiver: Receiver, bearer: Headers
) -> None:
    h = bearer(scopes=SCOPES)
    await subscribe(stack, h, receiver.url("checked"))
    await make_project(stack, h)
    [request] = await receiver.wait_for("checked")
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
    try:
        Webhook(other).verify(request.body, request.headers)
    except WebhookVerificationError:
        return
    raise AssertionError("a delivery verified with a secret that is not the subscription's")
