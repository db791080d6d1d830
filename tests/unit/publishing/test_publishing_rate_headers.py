"""Rate-limit header parsing shared by the adapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.publishing.adapters.http import (
    RateLimitMemory,
    after_seconds,
    dig,
    epoch_reset,
    retry_after,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_retry_after_in_seconds() -> None:
    assert retry_after({"retry-after": "120"}, NOW) == NOW + timedelta(seconds=120)


def test_retry_after_as_http_date() -> None:
    assert retry_after({"Retry-After": "Sun, 01 Mar 2026 12:05:00 GMT"}, NOW) == NOW + timedelta(
        minutes=5
    )


def test_unusable_retry_after_is_ignored() -> None:
    assert retry_after({"Retry-After": "soon"}, NOW) is None
    assert retry_after({}, NOW) is None
    assert after_seconds(NOW, "-3") is None
    assert after_seconds(NOW, "nan") is None


def test_absurd_waits_are_capped_at_two_days() -> None:
    assert after_seconds(NOW, 10**9) == NOW + timedelta(days=2)


def test_epoch_reset_with_decimals() -> None:
    stamp = NOW.timestamp() + 1.5
    assert epoch_reset(
        {"X-RateLimit-Reset": str(stamp)}, "x-ratelimit-reset", NOW
    ) == NOW + timedelta(seconds=1.5)


def test_memory_blocks_an_empty_bucket_until_its_reset() -> None:
    memory = RateLimitMemory()
    memory.note("b", "0", NOW + timedelta(seconds=2))
    memory.note("other", "3", NOW + timedelta(seconds=2))
    assert memory.blocked_until("b", NOW) == NOW + timedelta(seconds=2)
    assert memory.blocked_until("other", NOW) is None
    assert memory.blocked_until("b", NOW + timedelta(seconds=3)) is None


def test_dig_walks_dicts_only() -> None:
    assert dig({"a": {"b": 1}}, "a", "b") == 1
    assert dig({"a": [1]}, "a", "b") is None
    assert dig(None, "a") is None
