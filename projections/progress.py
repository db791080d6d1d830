"""Progress of long operations (replay, rebuild): rate, remaining records, ETA."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    rate: float  # records per second since the start
    eta_seconds: float | None

    @property
    def lag(self) -> int:
        return max(self.total - self.done, 0)


ProgressCallback = Callable[[Progress], None]


class ProgressMeter:
    """Turns "records done so far" into Progress reports, at most one per ``interval``."""

    def __init__(
        self,
        total: int,
        callback: ProgressCallback | None,
        *,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self._callback = callback
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._last_report: float | None = None

    def measure(self, done: int) -> Progress:
        done = min(done, self.total)
        elapsed = self._clock() - self._started
        rate = done / elapsed if elapsed > 0 else 0.0
        remaining = self.total - done
        eta = remaining / rate if rate > 0 else (0.0 if remaining == 0 else None)
        return Progress(done=done, total=self.total, rate=rate, eta_seconds=eta)

    def update(self, done: int, *, force: bool = False) -> None:
        if self._callback is None:
            return
        now = self._clock()
        if not force and self._last_report is not None and now - self._last_report < self._interval:
            return
        self._last_report = now
        self._callback(self.measure(done))
