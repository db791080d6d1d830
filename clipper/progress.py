"""ffmpeg ``-progress`` lines turned into a fraction that only ever grows, and the final report."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

ProgressCallback = Callable[[float], Awaitable[None]]
# 1.0 is reported once the clip is verified and in place, never by ffmpeg's progress.
RUNNING_CEILING = 0.99


class ProgressTracker:
    """Reads ffmpeg's ``-progress`` blocks (key=value lines, each block ends with
    ``progress=continue``, the last one with ``progress=end``).

    The last block is written after the muxer's trailer, so its figures describe the
    finished file: ``total_size`` is the output's size in bytes, ``frame`` the video
    frames written, ``out_time_us`` the output timeline measured from the input seek.
    """

    def __init__(self, expected_seconds: float) -> None:
        self._expected_us = max(expected_seconds, 1e-3) * 1_000_000
        self.fraction = 0.0
        self.bytes_written = 0
        self.frames = 0
        self.out_time_us = 0
        self.ended = False

    def feed(self, line: str) -> float | None:
        """The new fraction when ``line`` moves progress forward, else None."""
        key, _, value = line.partition("=")
        if key == "progress":
            self.ended = value == "end"
            return None
        if key == "total_size" and value.isdigit():
            self.bytes_written = int(value)
            return None
        if key == "frame" and value.isdigit():
            self.frames = int(value)
            return None
        if key != "out_time_us":
            return None
        try:
            done_us = int(value)  # "N/A" before the first frame
        except ValueError:
            return None
        self.out_time_us = max(self.out_time_us, done_us)
        fraction = round(min(RUNNING_CEILING, max(0.0, done_us / self._expected_us)), 3)
        if fraction <= self.fraction:
            return None
        self.fraction = fraction
        return fraction
