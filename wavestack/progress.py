"""Shows progress of long work: one updating line on a terminal, structured logs otherwise."""

from __future__ import annotations

import sys

import structlog

from projections.progress import Progress, ProgressCallback

log = structlog.get_logger("wavestack.progress")


def progress_printer(label: str) -> ProgressCallback:
    """A callback for replay/rebuild; the projector already rate-limits its reports."""
    tty = sys.stderr.isatty()

    def show(p: Progress) -> None:
        eta = f"{p.eta_seconds:.0f}s" if p.eta_seconds is not None else "?"
        if tty:
            sys.stderr.write(
                f"\r{label}: {p.done:,}/{p.total:,} records, {p.rate:,.0f}/s, "
                f"lag {p.lag:,}, ETA {eta}   "
            )
            sys.stderr.flush()
        else:
            log.info(label, done=p.done, total=p.total, rate=round(p.rate, 1), lag=p.lag, eta=eta)

    return show


def end_progress_line() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\n")
