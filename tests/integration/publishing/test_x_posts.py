"""X specifics: media through upload v2, duplicate 403 → look it up, 200 or 201 accepted."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from streams.publishing.adapters.base import ErrorClass, Failed, NotPublished, Published
from tests.integration.publishing.harness import Harness, XHarness, media_file

pytestmark = pytest.mark.parametrize("harness", ["x"], indirect=True)


async def no_checkpoint(state: Mapping[str, Any]) -> None:
    raise AssertionError("X has no resumable state to checkpoint")


def fake(harness: Harness) -> XHarness:
    assert isinstance(harness, XHarness)
    return harness


async def test_media_is_uploaded_processed_and_attached(harness: Harness, tmp_path: Path) -> None:
    h = fake(harness)
    media = media_file(tmp_path, 300_000, "video/mp4")
    result = await h.adapter.publish(h.request(media=media), no_checkpoint)
    assert isinstance(result, Published)
    (uploaded,) = h.x.media.values()
    assert (
        b"".join(uploaded.segments[i] for i in sorted(uploaded.segments)) == media.path.read_bytes()
    )
    assert len(uploaded.segments) == 2  # 256 KiB segments
    assert h.x.hits["media_status"] == 2  # polled until processing succeeded
    assert h.x.posts[0]["attachments"]["media_keys"] == [f"7_{next(iter(h.x.media))}"]


async def test_duplicate_content_means_look_it_up_and_reconcile_finds_it(harness: Harness) -> None:
    h = fake(harness)
    request = h.request()
    first = await h.adapter.publish(request, no_checkpoint)
    assert isinstance(first, Published)
    again = await h.adapter.publish(h.request(title=request.title), no_checkpoint)
    assert isinstance(again, Failed)
    assert again.error_class is ErrorClass.UNKNOWN_OUTCOME  # never "retry"
    assert again.status == 403
    assert await h.adapter.reconcile(request) == first
    assert len(h.x.posts) == 1


async def test_reconcile_says_not_published_when_recent_posts_lack_it(harness: Harness) -> None:
    await harness.adapter.publish(harness.request(), no_checkpoint)
    assert await harness.adapter.reconcile(harness.request()) == NotPublished()


async def test_200_on_create_is_accepted_too(harness: Harness) -> None:
    fake(harness).x.created_status = 200
    result = await harness.adapter.publish(harness.request(), no_checkpoint)
    assert isinstance(result, Published)
    assert result.url == f"https://x.com/i/status/{result.post_id}"


async def test_an_empty_rate_limit_window_is_honoured_without_sending(harness: Harness) -> None:
    h = fake(harness)
    h.rate_limit()
    first = await h.adapter.publish(h.request(), no_checkpoint)
    assert isinstance(first, Failed) and first.error_class is ErrorClass.RATE_LIMITED
    sent = h.x.hits["tweet"]
    second = await h.adapter.publish(h.request(), no_checkpoint)
    assert isinstance(second, Failed) and second.error_class is ErrorClass.RATE_LIMITED
    assert second.retry_at == first.retry_at
    assert h.x.hits["tweet"] == sent
