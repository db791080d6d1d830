"""YouTube specifics: checkpoint before bytes, resume after a failed chunk, one session only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streams.publishing.adapters.base import CannotKnow, ErrorClass, Failed, NotPublished, Published
from tests.fakes.base import normal
from tests.fakes.youtube import FakeYouTube
from tests.integration.publishing.harness import Harness, YouTubeHarness

pytestmark = pytest.mark.parametrize("harness", ["youtube"], indirect=True)


def youtube(harness: Harness) -> YouTubeHarness:
    assert isinstance(harness, YouTubeHarness)
    return harness


async def test_session_is_checkpointed_before_any_byte_is_sent(harness: Harness) -> None:
    h = youtube(harness)
    chunks_when_checkpointed: list[int] = []

    async def checkpoint(state: Mapping[str, Any]) -> None:
        chunks_when_checkpointed.append(h.youtube.hits["chunk"])
        assert h.media is not None and state["total"] == h.media.size
        assert str(state["session_uri"]).startswith(h.fake.base_url)

    result = await h.adapter.publish(h.request(), checkpoint)
    assert isinstance(result, Published)
    assert result.url == f"https://www.youtube.com/watch?v={result.post_id}"
    assert chunks_when_checkpointed == [0]
    assert h.youtube.hits["chunk"] == 3  # 256 KiB + 256 KiB + the rest


async def test_failed_chunk_resumes_the_stored_session_without_a_second_upload(
    harness: Harness,
) -> None:
    h = youtube(harness)
    assert h.media is not None
    saved: list[Mapping[str, Any]] = []

    async def checkpoint(state: Mapping[str, Any]) -> None:
        saved.append(dict(state))

    h.fake.queue("chunk", normal(), FakeYouTube.server_error())
    request = h.request()
    first = await h.adapter.publish(request, checkpoint)
    assert isinstance(first, Failed) and first.error_class is ErrorClass.TRANSIENT
    assert await h.adapter.reconcile(h.request(session=saved[-1])) == NotPublished()

    second = await h.adapter.publish(h.request(session=saved[-1]), checkpoint)
    assert isinstance(second, Published)
    assert len(h.youtube.sessions) == 1  # resumed, never a new session
    assert len(saved) == 1
    assert h.youtube.hits["status"] >= 1  # asked where to resume before sending
    assert bytes(h.youtube.videos[second.post_id].data) == h.media.path.read_bytes()


async def test_reconcile_without_a_stored_session_knows_nothing_was_sent(
    harness: Harness,
) -> None:
    assert await harness.adapter.reconcile(harness.request()) == NotPublished()


async def test_expired_session_cannot_be_reconciled(harness: Harness) -> None:
    h = youtube(harness)
    stale = {
        "session_uri": f"{h.fake.base_url}/upload/youtube/v3/videos?upload_id=gone",
        "total": h.media.size if h.media else 0,
    }
    outcome = await h.adapter.reconcile(h.request(session=stale))
    assert isinstance(outcome, CannotKnow)


async def test_upload_limit_is_quota_for_a_day(harness: Harness) -> None:
    harness.fail(FakeYouTube.upload_limit_exceeded())
    now = datetime.now(UTC)
    result = await harness.adapter.publish(harness.request(), lambda _: _noop())
    assert isinstance(result, Failed) and result.error_class is ErrorClass.QUOTA
    assert result.status == 400
    assert result.retry_at is not None
    assert abs((result.retry_at - (now + timedelta(hours=24))).total_seconds()) < 5


async def test_rate_limit_reason_on_403_is_rate_limited_not_permanent(harness: Harness) -> None:
    harness.fail(FakeYouTube.rate_limited(7))
    result = await harness.adapter.publish(harness.request(), lambda _: _noop())
    assert isinstance(result, Failed) and result.error_class is ErrorClass.RATE_LIMITED
    assert result.status == 403


async def test_201_on_completion_is_accepted_too(harness: Harness) -> None:
    youtube(harness).youtube.done_status = 201
    result = await harness.adapter.publish(harness.request(), lambda _: _noop())
    assert isinstance(result, Published)


async def test_an_item_without_a_video_fails_permanently(harness: Harness) -> None:
    result = await harness.adapter.publish(harness.request(media=None), lambda _: _noop())
    assert isinstance(result, Failed) and result.error_class is ErrorClass.PERMANENT
    assert youtube(harness).youtube.hits["start"] == 0


async def _noop() -> None:
    return None
