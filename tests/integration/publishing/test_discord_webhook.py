"""Discord specifics: the message id is the post id, buckets honoured, the URL can't redirect us."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from streams.publishing.adapters.base import ErrorClass, Failed, Published
from tests.integration.publishing.harness import DiscordHarness, Harness

pytestmark = pytest.mark.parametrize("harness", ["discord"], indirect=True)


async def no_checkpoint(state: Mapping[str, Any]) -> None:
    raise AssertionError("Discord has no resumable state to checkpoint")


def fake(harness: Harness) -> DiscordHarness:
    assert isinstance(harness, DiscordHarness)
    return harness


async def test_message_is_posted_with_wait_and_no_mentions(harness: Harness) -> None:
    h = fake(harness)
    result = await h.adapter.publish(h.request(description="@everyone look"), no_checkpoint)
    assert isinstance(result, Published)
    (message,) = h.discord.messages
    assert result.post_id == message["id"]
    assert result.url == (
        f"https://discord.com/channels/{message['guild_id']}/{message['channel_id']}/{message['id']}"
    )
    assert message["allowed_mentions"] == {"parse": []}
    assert message["content"].endswith("@everyone look")


async def test_an_empty_bucket_is_honoured_without_sending(harness: Harness) -> None:
    h = fake(harness)
    h.discord.limit = 1
    assert isinstance(await h.adapter.publish(h.request(), no_checkpoint), Published)
    held = await h.adapter.publish(h.request(), no_checkpoint)
    assert isinstance(held, Failed) and held.error_class is ErrorClass.RATE_LIMITED
    assert held.status is None  # decided from the headers, nothing was sent
    assert held.retry_at is not None
    assert h.discord.hits["execute"] == 1


async def test_only_id_and_token_are_taken_from_the_webhook_url(harness: Harness) -> None:
    h = fake(harness)
    hook_id, token = h.credentials["webhook_url"].split("/")[-2:]
    elsewhere = {"webhook_url": f"https://attacker.example/api/webhooks/{hook_id}/{token}"}
    result = await h.adapter.publish(h.request(credentials=elsewhere), no_checkpoint)
    assert isinstance(result, Published)  # went to the configured API, not attacker.example
    assert len(h.discord.messages) == 1


@pytest.mark.parametrize("url", ["", "https://discord.com/api/webhooks/abc/def", "not a url"])
async def test_malformed_webhook_urls_fail_permanently(harness: Harness, url: str) -> None:
    result = await harness.adapter.publish(
        harness.request(credentials={"webhook_url": url}), no_checkpoint
    )
    assert isinstance(result, Failed) and result.error_class is ErrorClass.PERMANENT
    assert fake(harness).discord.hits["execute"] == 0
