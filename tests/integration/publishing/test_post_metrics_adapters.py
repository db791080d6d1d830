"""Reading back through the adapters against the fakes: figures, 429, quota, deleted posts,
and the platforms without a read API (no request at all)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from streams.publishing.adapters.base import (
    Adapter,
    ErrorClass,
    Failed,
    Metrics,
    NotAvailable,
    PostRef,
    Published,
    PublishRequest,
)
from streams.publishing.adapters.discord import DiscordAdapter
from streams.publishing.adapters.webhook import WebhookAdapter
from streams.publishing.adapters.x import XAdapter
from streams.publishing.adapters.youtube import YouTubeAdapter, quota_reset
from tests.fakes.x import FakeX
from tests.fakes.youtube import FakeYouTube
from tests.integration.publishing.harness import utc_now

TOKEN = {"access_token": "read-token"}


@pytest.fixture
async def youtube() -> AsyncIterator[FakeYouTube]:
    fake = FakeYouTube(TOKEN["access_token"])
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def x() -> AsyncIterator[FakeX]:
    fake = FakeX(TOKEN["access_token"])
    await fake.start()
    yield fake
    await fake.stop()


def post(post_id: str) -> PostRef:
    return PostRef(item_id="item", post_id=post_id)


async def test_youtube_figures_grow_between_reads_and_a_read_costs_one_unit(
    youtube: FakeYouTube, session: aiohttp.ClientSession
) -> None:
    adapter = YouTubeAdapter(session, utc_now, youtube.base_url)
    video = youtube.add_video()
    first = await adapter.metrics(post(video), TOKEN)
    second = await adapter.metrics(post(video), TOKEN)
    assert isinstance(first, Metrics) and isinstance(second, Metrics)
    assert first.views is not None and second.views is not None and second.views > first.views
    assert (first.likes, first.comments, first.shares) == (13, 3, None)
    assert youtube.units_used == 2


async def test_youtube_quota_answer_defers_every_read_of_the_token_until_the_reset(
    youtube: FakeYouTube, session: aiohttp.ClientSession
) -> None:
    adapter = YouTubeAdapter(session, utc_now, youtube.base_url)
    video = youtube.add_video()
    youtube.queue("videos_list", FakeYouTube.quota_exceeded())
    failed = await adapter.metrics(post(video), TOKEN)
    assert isinstance(failed, Failed) and failed.error_class is ErrorClass.QUOTA
    assert failed.retry_at == quota_reset(utc_now())
    again = await adapter.metrics(post(youtube.add_video()), TOKEN)
    assert isinstance(again, Failed) and again.error_class is ErrorClass.QUOTA
    assert youtube.hits["videos_list"] == 1  # the second read was not sent


@pytest.mark.parametrize("missing_status", [200, 404])
async def test_a_deleted_youtube_video_is_gone_in_either_answer(
    session: aiohttp.ClientSession, missing_status: int
) -> None:
    fake = FakeYouTube(TOKEN["access_token"], missing_status=missing_status)
    await fake.start()
    try:
        adapter = YouTubeAdapter(session, utc_now, fake.base_url)
        video = fake.add_video()
        fake.delete_video(video)
        result = await adapter.metrics(post(video), TOKEN)
        assert isinstance(result, NotAvailable) and result.gone
    finally:
        await fake.stop()


async def test_x_figures_grow_between_reads(x: FakeX, session: aiohttp.ClientSession) -> None:
    adapter = XAdapter(session, utc_now, x.base_url)
    post_id = x.add_post("Launch day")
    first = await adapter.metrics(post(post_id), TOKEN)
    second = await adapter.metrics(post(post_id), TOKEN)
    assert first == Metrics(views=50, likes=5, comments=2, shares=1)
    assert second == Metrics(views=100, likes=10, comments=3, shares=2)


async def test_x_429_defers_reads_until_the_reset_and_never_holds_back_a_post(
    x: FakeX, session: aiohttp.ClientSession
) -> None:
    adapter = XAdapter(session, utc_now, x.base_url)
    post_id = x.add_post("Launch day")
    x.queue("tweet_lookup", FakeX.rate_limited(120))
    failed = await adapter.metrics(post(post_id), TOKEN)
    assert isinstance(failed, Failed) and failed.error_class is ErrorClass.RATE_LIMITED
    assert failed.retry_at is not None and failed.retry_at > utc_now() + timedelta(seconds=100)
    again = await adapter.metrics(post(post_id), TOKEN)
    assert isinstance(again, Failed) and again.retry_at == failed.retry_at
    assert x.hits["tweet_lookup"] == 1  # not sent into the empty bucket
    published = await adapter.publish(request("Posted while reads wait"), no_checkpoint)
    assert isinstance(published, Published)


@pytest.mark.parametrize("deleted_status", [200, 404])
async def test_a_deleted_x_post_is_gone_in_either_answer(
    session: aiohttp.ClientSession, deleted_status: int
) -> None:
    fake = FakeX(TOKEN["access_token"], deleted_status=deleted_status)
    await fake.start()
    try:
        adapter = XAdapter(session, utc_now, fake.base_url)
        post_id = fake.add_post("Soon gone")
        fake.delete_post(post_id)
        result = await adapter.metrics(post(post_id), TOKEN)
        assert isinstance(result, NotAvailable) and result.gone
    finally:
        await fake.stop()


async def test_a_revoked_x_token_fails_the_read_for_good(
    x: FakeX, session: aiohttp.ClientSession
) -> None:
    adapter = XAdapter(session, utc_now, x.base_url)
    result = await adapter.metrics(post(x.add_post("t")), {"access_token": "tok-7f3a9"})
    assert isinstance(result, Failed) and result.error_class is ErrorClass.PERMANENT
    assert result.connection_broken and "tok-7f3a9" not in result.summary


async def test_discord_and_webhook_posts_have_no_figures_and_nothing_is_asked(
    session: aiohttp.ClientSession,
) -> None:
    adapters: list[Adapter] = [
        DiscordAdapter(session, utc_now, "http://127.0.0.1:9"),
        WebhookAdapter(session, utc_now),
    ]
    for adapter in adapters:
        assert not adapter.reads_metrics
        # Port 9 (discard) is never connected to: the answer comes without a request.
        result = await adapter.metrics(post("123"), {"webhook_url": "http://127.0.0.1:9/x"})
        assert isinstance(result, NotAvailable) and not result.gone


def request(title: str) -> PublishRequest:
    return PublishRequest(
        item_id="item",
        attempt_id="att_1",
        title=title,
        description="",
        target={},
        credentials=TOKEN,
    )


async def no_checkpoint(state: Mapping[str, Any]) -> None:
    raise AssertionError("nothing to checkpoint")
