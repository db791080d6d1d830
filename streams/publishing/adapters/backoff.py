"""When to try again: exponential backoff with full jitter, capped, platform times first.

Full jitter (a uniform delay in [0, min(cap, base·2ⁿ⁻¹)]) spreads the retries of many
items that failed together, so a recovering platform isn't hit by a synchronized wave.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from streams.publishing.adapters.base import ErrorClass, Failed


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 5.0
    cap_seconds: float = 3600.0
    max_attempts: int = 10

    def delay(self, attempt: int, random: Callable[[], float]) -> float:
        """Seconds to wait after failed attempt number `attempt` (from 1)."""
        if attempt < 1:
            raise ValueError("attempts count from 1")
        # min() before the power would overflow for large attempts; cap the exponent.
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0 ** min(attempt - 1, 60))
        return random() * ceiling

    def next_attempt_at(
        self, failed: Failed, attempt: int, now: datetime, random: Callable[[], float]
    ) -> datetime | None:
        """The next attempt's time, or None when the item must not be retried.

        Permanent errors stop at once; an unknown outcome is never retried blindly (it
        is reconciled first). A platform-given time wins over our own backoff, even past
        the cap and the attempt limit for quota: waiting for a reset is not failing.
        """
        if failed.error_class in (ErrorClass.PERMANENT, ErrorClass.UNKNOWN_OUTCOME):
            return None
        if failed.error_class is ErrorClass.QUOTA:
            return max(failed.retry_at, now) if failed.retry_at else now + timedelta(hours=1)
        if attempt >= self.max_attempts:
            return None
        if failed.retry_at is not None:
            return max(failed.retry_at, now)
        return now + timedelta(seconds=self.delay(attempt, random))

    def reconcile_at(
        self, attempt: int, now: datetime, random: Callable[[], float]
    ) -> datetime | None:
        """When to look again at an attempt whose outcome is unknown, or None to stop.

        Looking is never a re-post, but it is not free either: after ``max_attempts``
        the item waits for an operator (``unconfirmed``) instead of asking forever.
        """
        if attempt >= self.max_attempts:
            return None
        return now + timedelta(seconds=self.delay(attempt, random))
