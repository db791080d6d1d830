"""When a published post is read back: often while it is young, then hourly, then never.

Pure: the next read follows from the post's publish time and its last recorded read,
both on the log, so a restarted publisher computes the same schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class ScheduleSettings(Protocol):
    @property
    def metrics_early_interval_seconds(self) -> float: ...
    @property
    def metrics_late_interval_seconds(self) -> float: ...
    @property
    def metrics_early_period_seconds(self) -> float: ...
    @property
    def metrics_window_seconds(self) -> float: ...


@dataclass(frozen=True)
class ReadSchedule:
    early_interval: timedelta = timedelta(minutes=15)
    late_interval: timedelta = timedelta(hours=1)
    # Posts gather most of their views in the first day: read them closely then.
    early_period: timedelta = timedelta(days=1)
    # No read later than this after publishing.
    window: timedelta = timedelta(days=7)

    @classmethod
    def from_settings(cls, settings: ScheduleSettings) -> ReadSchedule:
        return cls(
            early_interval=timedelta(seconds=settings.metrics_early_interval_seconds),
            late_interval=timedelta(seconds=settings.metrics_late_interval_seconds),
            early_period=timedelta(seconds=settings.metrics_early_period_seconds),
            window=timedelta(seconds=settings.metrics_window_seconds),
        )

    def interval(self, published_at: datetime, at: datetime) -> timedelta:
        """The gap between reads for a post of this age at ``at``."""
        return self.early_interval if at - published_at < self.early_period else self.late_interval

    def next_read_at(
        self, published_at: datetime, last_read_at: datetime | None
    ) -> datetime | None:
        """The next read after the last one (or after publishing); None once past the window."""
        base = last_read_at or published_at
        at = base + self.interval(published_at, base)
        return at if at - published_at <= self.window else None

    def in_window(self, published_at: datetime, now: datetime) -> bool:
        return now - published_at <= self.window
