"""Reading back through the real processes: published YouTube and X posts get their figures
recorded on the log and shown by the API, round after round; a 429 and a quota answer put
reads off; a deleted post is recorded once and not read again; webhook posts are never
read; posts past the window are not read; another organization sees none of it; a
publisher killed between reads doubles no round."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.x import FakeX
from tests.fakes.youtube import FakeYouTube
from tests.integration.publishing.metrics_stack import X_TOKEN, YOUTUBE_TOKEN, MetricsStack
from tests.integration.streams.helpers import TopicReader, Worker
from wavestack.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path) -> AsyncIterator[MetricsStack]:
    running = await MetricsStack.start(settings, tmp_path / "stack", window=600.0)
    try:
        yield running
    finally:
        await running.stop()


async def quiet_for(seconds: float, count: object, stack: MetricsStack) -> None:
    """Fails if ``count()`` changes within ``seconds``."""
    assert callable(count)
    before = count()
    await asyncio.sleep(seconds)
    assert count() == before, stack.output()


async def consumed(stack: MetricsStack, hits: object, route_hits_before: int) -> None:
    assert callable(hits)
    deadline = asyncio.get_running_loop().time() + 30
    while hits() <= route_hits_before:
        assert asyncio.get_running_loop().time() < deadline, stack.output()
        await asyncio.sleep(0.1)


async def test_figures_are_read_back_recorded_and_shown_round_after_round(
    stack: MetricsStack,
) -> None:
    x_connection = await stack.connect("x", {"access_token": X_TOKEN})
    youtube_connection = await stack.connect("youtube", {"access_token": YOUTUBE_TOKEN})
    hook = await stack.connect(
        "webhook", {"url": stack.receiver.url("hook"), "secret": stack.receiver.secret}
    )
    kept = await stack.queue("x", x_connection, "Launch day, read back")
    doomed = await stack.queue("x", x_connection, "A post soon deleted")
    webhook_item = await stack.queue("webhook", hook, "Hooked")
    youtube_item, video = await stack.published_youtube_video(youtube_connection)

    x_post = await stack.post_of(kept, lambda p: p["metrics_round"] >= 1)
    assert x_post["platform"] == "x" and x_post["metrics_read_at"] is not None
    assert x_post["views"] > 0 and x_post["likes"] > 0 and x_post["comments"] > 0
    youtube_post = await stack.post_of(youtube_item, lambda p: p["metrics_round"] >= 1)
    assert youtube_post["platform_post_id"] == video
    assert youtube_post["views"] >= 137 and youtube_post["shares"] is None

    # A second round updates the figures.
    later = await stack.post_of(kept, lambda p: p["metrics_round"] > x_post["metrics_round"])
    assert later["views"] > x_post["views"] and later["metrics_read_at"] > x_post["metrics_read_at"]
    status, one = await stack.get(f"/v1/posts/{later['id']}")
    assert status == 200 and one["metrics_round"] >= later["metrics_round"]

    # Deleted on the platform: recorded once, never read again.
    gone_id = (await stack.post_of(doomed, lambda p: p["metrics_round"] >= 1))["platform_post_id"]
    stack.x.delete_post(gone_id)
    gone = await stack.post_of(doomed, lambda p: p["gone_at"] is not None)
    assert gone["views"] is not None  # the last figures it had
    await quiet_for(2.5, lambda: stack.x.lookups.get(gone_id), stack)

    # A 429 with reset headers: no read of that token until the reset, then reads resume.
    before = stack.x.hits["tweet_lookup"]
    stack.x.queue("tweet_lookup", FakeX.rate_limited(4))
    await consumed(stack, lambda: stack.x.hits["tweet_lookup"], before)
    limited = await stack.post_of(kept)
    await quiet_for(1.5, lambda: stack.x.hits["tweet_lookup"], stack)
    await stack.post_of(kept, lambda p: p["metrics_round"] > limited["metrics_round"])

    # A quota answer: YouTube is not read again before the quota's reset (midnight Pacific).
    before = stack.youtube.hits["videos_list"]
    stack.youtube.queue("videos_list", FakeYouTube.quota_exceeded())
    await consumed(stack, lambda: stack.youtube.hits["videos_list"], before)
    await quiet_for(2.0, lambda: stack.youtube.hits["videos_list"], stack)

    # A webhook post has no figures and no round.
    hooked = await stack.post_of(webhook_item)
    assert hooked["metrics_round"] == 0 and hooked["views"] is None
    assert hooked["metrics_read_at"] is None

    # Another organization can't read the post.
    status, _ = await stack.get(f"/v1/posts/{later['id']}", org="org-b")
    assert status == 404
    status, listed = await stack.get("/v1/posts", org="org-b")
    assert status == 200 and listed["items"] == []


async def test_posts_past_the_read_window_are_not_read(settings: Settings, tmp_path: Path) -> None:
    stack = await MetricsStack.start(settings, tmp_path / "stack", window=0.0)
    try:
        x_connection = await stack.connect("x", {"access_token": X_TOKEN})
        item = await stack.queue("x", x_connection, "Published, never read")
        await stack.post_of(item)
        await asyncio.sleep(2.0)  # two read intervals
        assert stack.x.hits["tweet_lookup"] == 0
        assert (await stack.post_of(item))["metrics_round"] == 0
    finally:
        await stack.stop()


async def test_a_publisher_killed_between_reads_doubles_no_round(stack: MetricsStack) -> None:
    events = TopicReader(stack.settings, stack.settings.topics.events)
    await events.start()
    try:
        x_connection = await stack.connect("x", {"access_token": X_TOKEN})
        item = await stack.queue("x", x_connection, "Read across a crash")
        before = await stack.post_of(item, lambda p: p["metrics_round"] >= 2)
        publisher = stack.children[1]
        assert isinstance(publisher, Worker)
        await publisher.kill()
        await publisher.restart()
        after = await stack.post_of(
            item, lambda p: p["metrics_round"] >= before["metrics_round"] + 2
        )
        assert after["views"] > before["views"]

        def rounds() -> list[int]:
            recorded = {e.id: e for e in events.of_type("queue.PostMetricsRecorded")}
            mine = [e for e in recorded.values() if str(e.aggregate_id) == item]
            return sorted(int(e.data["round"]) for e in mine)

        await events.wait_until(lambda _: len(rounds()) >= after["metrics_round"])
        # One event per round, numbered without a gap or a repeat across the restart.
        assert rounds()[: after["metrics_round"]] == list(range(1, after["metrics_round"] + 1))
    finally:
        await events.stop()
