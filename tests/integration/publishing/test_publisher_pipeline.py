"""The publisher as a process: due items go out once, failures and retries are on the log."""

from __future__ import annotations

import asyncio

from tests.fakes.webhook import FakeWebhookReceiver
from tests.integration.publishing.pipeline import Pipeline, soon

STARTED = "queue.PublishStarted"
PUBLISHED = "queue.ItemPublished"
ATTEMPT_FAILED = "queue.PublishAttemptFailed"
FAILED = "queue.ItemFailed"


async def test_a_due_item_is_posted_once_and_its_post_is_on_the_log(pipeline: Pipeline) -> None:
    receiver = await pipeline.receiver()
    connection = await pipeline.connect(receiver)
    item = pipeline.enqueue(connection, soon(1.0), title="Launch day")
    await pipeline.send([item])

    [published] = await pipeline.wait_for(item.aggregate_id, PUBLISHED)
    await asyncio.sleep(1.0)  # time for a second post, were there one

    assert len(receiver.deliveries) == 1
    delivery = receiver.deliveries[0]
    assert delivery.payload["data"]["title"] == "Launch day"
    assert published.data["post_id"] == delivery.webhook_id
    [started] = pipeline.of_item(item.aggregate_id, STARTED)
    assert started.data["attempt"] == 1
    assert started.data["attempt_id"] == delivery.webhook_id


async def test_500_500_200_makes_three_attempts_and_one_post(pipeline: Pipeline) -> None:
    receiver = await pipeline.receiver()
    receiver.queue("deliver", receiver.server_error(), receiver.server_error())
    connection = await pipeline.connect(receiver)
    item = pipeline.enqueue(connection, soon(0.5))
    await pipeline.send([item])

    await pipeline.wait_for(item.aggregate_id, PUBLISHED)

    starts = pipeline.of_item(item.aggregate_id, STARTED)
    failures = pipeline.of_item(item.aggregate_id, ATTEMPT_FAILED)
    assert sorted(s.data["attempt"] for s in starts) == [1, 2, 3]
    assert [(f.data["error_class"], f.data["platform_status"]) for f in failures] == [
        ("transient", 500),
        ("transient", 500),
    ]
    assert all(f.data["next_attempt_at"] is not None for f in failures)
    assert receiver.hits["deliver"] == 3
    assert len(receiver.deliveries) == 1


async def test_a_429_with_retry_after_makes_the_next_attempt_wait_that_long(
    pipeline: Pipeline,
) -> None:
    receiver = await pipeline.receiver()
    receiver.queue("deliver", FakeWebhookReceiver.throttled(2))
    connection = await pipeline.connect(receiver)
    item = pipeline.enqueue(connection, soon(0.5))
    await pipeline.send([item])

    await pipeline.wait_for(item.aggregate_id, PUBLISHED)

    [failure] = pipeline.of_item(item.aggregate_id, ATTEMPT_FAILED)
    assert failure.data["error_class"] == "rate-limited"
    second = next(s for s in pipeline.of_item(item.aggregate_id, STARTED) if s.data["attempt"] == 2)
    waited = (second.occurred_at - failure.occurred_at).total_seconds()
    assert waited >= 1.9, waited  # Retry-After: 2 (whole seconds; the clock may round)
    assert len(receiver.deliveries) == 1


async def test_revoked_credentials_fail_the_item_with_a_reason_and_spare_the_others(
    pipeline: Pipeline,
) -> None:
    revoked = await pipeline.receiver()
    healthy = await pipeline.receiver()
    revoked.queue("deliver", revoked.unauthorized())
    bad = pipeline.enqueue(await pipeline.connect(revoked), soon(0.5), title="Bad")
    good = pipeline.enqueue(await pipeline.connect(healthy), soon(0.5), title="Good")
    await pipeline.send([bad, good])

    [failed] = await pipeline.wait_for(bad.aggregate_id, FAILED)
    await pipeline.wait_for(good.aggregate_id, PUBLISHED)

    assert failed.data["error_class"] == "permanent"
    assert failed.data["connection_broken"] is True
    assert "secret" in failed.data["reason"] and "reconnect" in failed.data["reason"]
    assert pipeline.of_item(bad.aggregate_id, STARTED)[0].data["attempt"] == 1
    assert len(pipeline.of_item(bad.aggregate_id, STARTED)) == 1  # failed at once
    assert [d.payload["data"]["title"] for d in healthy.deliveries] == ["Good"]
    assert revoked.deliveries == []


async def test_an_item_cancelled_before_it_is_due_is_never_posted(pipeline: Pipeline) -> None:
    from schemas.commands import CancelItem
    from tests.integration.streams.helpers import addressing

    receiver = await pipeline.receiver()
    connection = await pipeline.connect(receiver)
    item = pipeline.enqueue(connection, soon(3.0))
    await pipeline.send([item])
    await pipeline.wait_for(item.aggregate_id, "queue.ItemEnqueued")
    await pipeline.send([addressing("org-publish", item.aggregate_id, CancelItem())])
    await pipeline.wait_for(item.aggregate_id, "queue.ItemCancelled")

    await asyncio.sleep(4.0)  # past its time

    assert pipeline.of_item(item.aggregate_id, STARTED) == []
    assert receiver.hits["deliver"] == 0


async def test_deleting_a_connection_shreds_its_key_and_its_items_fail_with_a_reason(
    pipeline: Pipeline,
) -> None:
    import asyncpg

    from schemas.publishing import DeleteConnection
    from tests.integration.streams.helpers import addressing
    from vault import keytable

    receiver = await pipeline.receiver()
    connection = await pipeline.connect(receiver)
    await pipeline.send([addressing("org-publish", connection, DeleteConnection())])
    await pipeline.wait_for(connection, "connection.ConnectionDeleted")
    item = pipeline.enqueue(connection, soon(0.5))
    await pipeline.send([item])

    [failed] = await pipeline.wait_for(item.aggregate_id, FAILED)

    assert "connect the account again" in failed.data["reason"]
    assert receiver.hits["deliver"] == 0
    conn = await asyncpg.connect(pipeline.settings.dsn)
    try:
        row = await keytable.load(conn, pipeline.settings.db_schema, str(connection))
    finally:
        await conn.close()
    assert row is None  # the data key is gone: the sealed copy on the log is unreadable


async def test_cancelling_a_published_item_is_a_rejected_outcome_with_status_409(
    pipeline: Pipeline,
) -> None:
    from schemas.commands import CancelItem
    from tests.integration.streams.helpers import addressing

    receiver = await pipeline.receiver()
    item = pipeline.enqueue(await pipeline.connect(receiver), soon(0.5))
    await pipeline.send([item])
    await pipeline.wait_for(item.aggregate_id, PUBLISHED)

    cancel = addressing("org-publish", item.aggregate_id, CancelItem())
    await pipeline.send([cancel])
    await pipeline.events.wait_until(lambda r: cancel.command_id in r.outcomes())

    [outcome] = pipeline.events.outcomes()[cancel.command_id][:1]
    assert (outcome.data["outcome"], outcome.data["status"]) == ("rejected", 409)
    assert pipeline.of_item(item.aggregate_id, "queue.ItemCancelled") == []
