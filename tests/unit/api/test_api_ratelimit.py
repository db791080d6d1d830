"""The per-organization token bucket, driven by a fake clock."""

from __future__ import annotations

import pytest

from api.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_the_next_request_waits_for_a_token() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.take("org") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("org") == pytest.approx(0.5)


def test_tokens_refill_at_the_rate_up_to_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=2, clock=clock)
    limiter.take("org")
    limiter.take("org")
    clock.now += 1.0
    assert limiter.take("org") == 0.0
    assert limiter.take("org") == pytest.approx(1.0)
    clock.now += 3600
    # Refilled to the burst (2), not to 3600 tokens: the third waits a whole token.
    assert [limiter.take("org") for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


def test_organizations_have_separate_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=Clock())
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    assert limiter.take("b") == 0.0
