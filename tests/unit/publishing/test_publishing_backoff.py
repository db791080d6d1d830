"""Backoff: full jitter under a doubling, capped ceiling; platform times win."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from streams.publishing.adapters.backoff import Backoff
from streams.publishing.adapters.base import ErrorClass, Failed

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = Backoff(base_seconds=5, cap_seconds=60, max_attempts=5)


def always(value: float) -> float:
    return value


def test_ceiling_doubles_per_attempt_then_caps() -> None:
    ceilings = [POLICY.delay(n, lambda: 1.0) for n in range(1, 7)]
    assert ceilings == [5, 10, 20, 40, 60, 60]


def test_delay_is_the_random_fraction_of_the_ceiling() -> None:
    assert POLICY.delay(3, lambda: 0.25) == 5.0
    assert POLICY.delay(3, lambda: 0.0) == 0.0


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    assert POLICY.delay(10_000, lambda: 1.0) == 60


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError):
        POLICY.delay(0, lambda: 0.5)


def test_transient_failure_retries_after_jittered_delay() -> None:
    failed = Failed(ErrorClass.TRANSIENT, 500, "x")
    assert POLICY.next_attempt_at(failed, 2, NOW, lambda: 0.5) == NOW + timedelta(seconds=5)


def test_platform_retry_time_wins_over_backoff() -> None:
    when = NOW + timedelta(seconds=90)
    failed = Failed(ErrorClass.RATE_LIMITED, 429, "x", retry_at=when)
    assert POLICY.next_attempt_at(failed, 1, NOW, lambda: 0.5) == when


def test_permanent_and_unknown_outcome_are_never_retried_blindly() -> None:
    for kind in (ErrorClass.PERMANENT, ErrorClass.UNKNOWN_OUTCOME):
        assert POLICY.next_attempt_at(Failed(kind, None, "x"), 1, NOW, lambda: 0.5) is None


def test_attempts_stop_at_the_limit() -> None:
    failed = Failed(ErrorClass.TRANSIENT, 503, "x")
    assert POLICY.next_attempt_at(failed, 5, NOW, lambda: 0.5) is None


def test_quota_waits_for_the_reset_even_past_the_attempt_limit() -> None:
    reset = NOW + timedelta(hours=11)
    failed = Failed(ErrorClass.QUOTA, 403, "x", retry_at=reset)
    assert POLICY.next_attempt_at(failed, 50, NOW, lambda: 0.5) == reset


def test_an_unknown_outcome_is_looked_at_again_until_the_attempt_limit() -> None:
    backoff = Backoff(base_seconds=2.0, max_attempts=3)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    later = backoff.reconcile_at(2, now, lambda: 1.0)
    assert later == now + timedelta(seconds=4.0)
    assert backoff.reconcile_at(3, now, lambda: 1.0) is None
