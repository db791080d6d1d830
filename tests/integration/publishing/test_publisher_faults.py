"""The publisher under load and faults: bursts, SIGKILLs, a second process in the group."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from tests.fakes.base import stall
from tests.integration.publishing.pipeline import Pipeline, soon
from wavestack.settings import Settings

PUBLISHED = "queue.ItemPublished"


def posts_per_item(pipeline: Pipeline) -> Counter[str]:
    return Counter(d.payload["data"]["item_id"] for r in pipeline.receivers for d in r.deliveries)


@pytest.mark.slow
async def test_fifty_items_due_at_the_same_second_are_posted_once_each_within_two_seconds(
    pipeline: Pipeline,
) -> None:
    receiver = await pipeline.receiver()
    connection = await pipeline.connect(receiver)
    due = soon(4.0)
    items = [pipeline.enqueue(connection, due, title=f"Post {i}") for i in range(50)]
    await pipeline.send(items)

    for item in items:
        await pipeline.wait_for(item.aggregate_id, PUBLISHED, timeout=30)

    lateness = [
        (pipeline.of_item(i.aggregate_id, PUBLISHED)[0].occurred_at - due).total_seconds()
        for i in items
    ]
    lateness.sort()
    print(f"50 due at once: median {lateness[24]:.3f} s, max {lateness[-1]:.3f} s after due")
    assert lateness[-1] <= 2.0, lateness[-5:]
    assert set(posts_per_item(pipeline).values()) == {1}
    assert len(posts_per_item(pipeline)) == 50


@pytest.mark.slow
async def test_a_publisher_killed_before_items_are_due_posts_each_once_after_restart(
    pipeline: Pipeline,
) -> None:
    receiver = await pipeline.receiver()
    connection = await pipeline.connect(receiver)
    due = soon(3.0)
    items = [pipeline.enqueue(connection, due, title=f"Post {i}") for i in range(10)]
    await pipeline.send(items)
    await pipeline.wait_for(items[-1].aggregate_id, "queue.ItemEnqueued")
    await asyncio.sleep(max((due - soon(0)).total_seconds() - 1.0, 0))

    await pipeline.publisher.kill()
    await asyncio.sleep(10.0)
    assert receiver.deliveries == []  # nothing went out while it was down
    await pipeline.publisher.restart()

    for item in items:
        await pipeline.wait_for(item.aggregate_id, PUBLISHED, timeout=60)
    await asyncio.sleep(1.0)
    assert posts_per_item(pipeline) == {str(i.aggregate_id): 1 for i in items}


@pytest.mark.slow
async def test_a_publisher_killed_after_the_platform_accepted_reconciles_without_a_second_post(
    pipeline: Pipeline,
) -> None:
    receiver = await pipeline.receiver()
    # The receiver records the post, then stalls far past the kill.
    receiver.queue("deliver", stall(30.0))
    connection = await pipeline.connect(receiver)
    item = pipeline.enqueue(connection, soon(0.5))
    await pipeline.send([item])
    deadline = asyncio.get_running_loop().time() + 30
    while not receiver.deliveries:
        assert asyncio.get_running_loop().time() < deadline, pipeline.output()
        await asyncio.sleep(0.05)

    await pipeline.publisher.kill()
    await pipeline.publisher.restart()

    [published] = await pipeline.wait_for(item.aggregate_id, PUBLISHED, timeout=60)
    [found] = pipeline.of_item(item.aggregate_id, "queue.PublishReconciled")
    assert found.data["finding"] == "resend-safe"
    assert receiver.hits["deliver"] == 2  # the re-send of the same webhook-id...
    assert len(receiver.deliveries) == 1  # ...which the receiver dedupes: one post
    assert published.data["post_id"] == receiver.deliveries[0].webhook_id
    assert len(pipeline.of_item(item.aggregate_id, "queue.PublishStarted")) == 1


@pytest.mark.slow
async def test_two_publishers_in_one_group_post_each_item_exactly_once(
    base_settings: Settings, tmp_path: Path
) -> None:
    pipeline = await Pipeline.start(base_settings, tmp_path, publishers=2)
    try:
        receiver = await pipeline.receiver()
        connection = await pipeline.connect(receiver)
        due = soon(3.0)
        items = [pipeline.enqueue(connection, due, title=f"Post {i}") for i in range(30)]
        await pipeline.send(items)
        for item in items:
            await pipeline.wait_for(item.aggregate_id, PUBLISHED, timeout=60)
        await asyncio.sleep(1.0)
        assert posts_per_item(pipeline) == {str(i.aggregate_id): 1 for i in items}
        for item in items:
            assert len(pipeline.of_item(item.aggregate_id, PUBLISHED)) == 1
        # Both processes did some of the work.
        worked = [p.output().count("publish_succeeded") for p in pipeline.publishers]
        assert all(worked), worked
    finally:
        assert await pipeline.stop() == 0, pipeline.output()
