"""ffmpeg ``-progress`` lines turned into a fraction that only ever grows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

ProgressCallback = Callable[[float], Awaitable[None]]
# 1.0 is reported once the clip is verified and in place, never by ffmpeg's progress.
RUNNING_CEILING = 0.99


class ProgressTracker:
    def __init__(self, expected_seconds: float) -> None:
        self._expected_us = max(expected_seconds, 1e-3) * 1_000_000
        self.fraction = 0.0
        self.bytes_written = 0

    def feed(self, line: str) -> float | None:
        """The new fraction when ``line`` moves progress forward, else None."""
        key, _, value = line.partition("=")
        if key == "total_size" and value.isdigit():
            self.bytes_written = int(value)
            return None
        if key != "out_time_us":
            return None
        try:
            done_us = int(value)  # "N/A" before the first frame
        except ValueError:
            return None
        fraction = round(min(RUNNING_CEILING, max(0.0, done_us / self._expected_us)), 3)
        if fraction <= self.fraction:
            return None
        self.fraction = fraction
        return fraction
