"""`wavestack worker --role webhooks` as a process: SIGKILLed mid-delivery, it delivers
again with the same webhook-id after a restart, and the attempt is recorded once."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.webhooks.conftest import SCOPES, Headers
from tests.integration.webhooks.helpers import deliveries, make_project
from tests.integration.webhooks.support import Answer, Receiver, Stack
from tests.processes import Child


@pytest.mark.slow
async def test_a_delivery_cut_short_by_a_crash_is_made_again_with_the_same_webhook_id(
    stack: Stack, receiver: Receiver, bearer: Headers
) -> None:
    await stack.stop_delivery()  # this test runs the delivery process as a child
    folder = stack.children[0].log_path.parent
    worker = Child("worker", stack.settings, folder, args=("--role", "webhooks"), name="webhooks")
    await worker.start()
    stack.children.append(worker)
    await worker.wait_for_output("Worker ready")
    h = bearer(scopes=SCOPES)
    body = {"url": receiver.url("crash"), "event_types": ["project.ProjectCreated"]}
    resp = await stack.client.post(
        "/v1/webhooks", json=body, headers=h | {"Idempotency-Key": uuid.uuid4().hex}
    )
    created = await resp.json()
    await stack.eventually(f"/v1/webhooks/{created['id']}", h, lambda s, _: s == 200)
    receiver.script["crash"].append(Answer(sleep=3.0))
    await make_project(stack, h)
    [first] = await receiver.wait_for("crash")
    await worker.kill()  # the request is in flight; nothing is recorded yet

    restarted = Child("worker", stack.settings, folder, args=("--role", "webhooks"), name="again")
    await restarted.start()
    stack.children.append(restarted)
    both = await receiver.wait_for("crash", 2, timeout=60)
    assert both[1].webhook_id == first.webhook_id
    both[1].verified(created["secret"])
    [row] = await deliveries(
        stack, h, created["id"], lambda items: bool(items) and items[0]["status"] == "delivered"
    )
    assert row["attempts"] == 1 and row["response_codes"] == [200]
