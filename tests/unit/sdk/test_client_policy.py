"""The SDK's pure parts: retry waits, problem-to-exception mapping, local validation."""

from __future__ import annotations

import random

import pytest

from client import (
    IdempotencyKeyReused,
    NotFound,
    RateLimited,
    RetryableError,
    RetryPolicy,
    ValidationFailed,
)
from client.base import body_of
from client.errors import error_for
from client.http import query
from schemas.commands import EnqueueItem


def test_retry_after_is_honoured_with_a_little_jitter_and_bounded() -> None:
    policy = RetryPolicy(attempts=3, max_wait=10.0, jitter=0.2, rng=random.Random(7))
    waits = [policy.delay(1, 2.0) for _ in range(50)]
    assert all(w is not None and 2.0 <= w <= 2.4 for w in waits)
    assert len(set(waits)) > 1  # jittered, not one instant for every bot
    assert policy.delay(1, 11.0) is None  # longer than max_wait: raise, don't wait
    assert policy.delay(3, 1.0) is None  # attempts used up


def test_without_retry_after_the_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(attempts=10, base=0.5, max_wait=3.0, rng=random.Random(1))
    assert all(0 <= (policy.delay(1, None) or 0) <= 1.0 for _ in range(20))
    assert all(0 <= (policy.delay(8, None) or 0) <= 3.0 for _ in range(20))


def test_problems_map_to_their_exceptions() -> None:
    reused = {"type": "urn:wavestack:problem:idempotency-key-reused", "status": 422}
    assert isinstance(error_for(422, reused, {}), IdempotencyKeyReused)
    limited = error_for(429, {"type": "urn:wavestack:problem:rate-limited"}, {"Retry-After": "3"})
    assert isinstance(limited, RateLimited) and limited.retry_after == 3.0
    assert limited.kind == "rate-limited"
    missing = error_for(404, {"errors": [{"loc": ["body", "asset_id"], "msg": "no"}]}, {})
    assert isinstance(missing, NotFound) and missing.errors[0].loc == ("body", "asset_id")
    assert type(error_for(504, {}, {})) is RetryableError


def test_a_body_is_what_was_given_and_checked_before_sending() -> None:
    assert body_of(EnqueueItem, platform="x", title="t", description=None) == {
        "platform": "x",
        "title": "t",
    }
    with pytest.raises(ValidationFailed) as caught:
        body_of(EnqueueItem, platform="x", title="t", timezone="Mars/Olympus")
    assert caught.value.errors[0].loc == ("body", "timezone")


def test_query_parameters_leave_out_none_and_spell_booleans_lower_case() -> None:
    assert query({"a": None, "b": True, "c": 2}) == {"b": "true", "c": "2"}
