"""Progress of long work: one updating line on a terminal, structured logs otherwise."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger("wavestack.progress")


@dataclass
class Progress:
    """Call ``update(done, lag)``; it rate-limits itself to a few refreshes a second."""

    label: str
    interval: float = 0.5 if sys.stderr.isatty() else 5.0
    _start: float = field(default_factory=time.monotonic)
    _last: float = 0.0

    def update(self, done: int, lag: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < self.interval:
            return
        self._last = now
        elapsed = max(now - self._start, 1e-6)
        rate = done / elapsed
        eta = lag / rate if rate > 0 else float("inf")
        eta_text = f"{eta:.0f}s" if eta != float("inf") else "?"
        if sys.stderr.isatty():
            end = "\n" if final else ""
            sys.stderr.write(
                f"\r{self.label}: {done} events, {rate:,.0f} events/s, lag {lag}, ETA {eta_text}  {end}"
            )
            sys.stderr.flush()
        else:
            log.info(self.label, events=done, events_per_s=round(rate, 1), lag=lag, eta_s=eta_text)
