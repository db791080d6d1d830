"""Clip progress reported to the log at most once a second: enough for a progress bar."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

REPORT_INTERVAL_SECONDS = 1.0


class ProgressReporter:
    """The clipper's progress callback; forwards a fraction when a second has passed.

    The first fraction goes out at once. 1.0 is never forwarded: the clip's
    completion says it, and a progress event after ``ClipCompleted`` would only be
    answered as a duplicate.
    """

    def __init__(
        self,
        report: Callable[[float], Awaitable[None]],
        *,
        interval: float = REPORT_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._report = report
        self._interval = interval
        self._clock = clock
        self._last: float | None = None

    async def __call__(self, fraction: float) -> None:
        if fraction >= 1.0:
            return
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            return
        self._last = now
        await self._report(fraction)
