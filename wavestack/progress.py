"""Shows progress of long work: a rich progress bar on a terminal, structured logs otherwise.

The one place that decides how progress looks (replay, rebuild, dlq replay): the
work reports ``Progress`` values through a callback and never writes to the screen.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn
from rich.progress import Progress as RichProgress

from projections.progress import Progress, ProgressCallback

log = structlog.get_logger("wavestack.progress")


def _eta(p: Progress) -> str:
    return f"{p.eta_seconds:.0f}s" if p.eta_seconds is not None else "?"


class _Bar:
    """A rich bar on stderr, started at the first report (the total is known then)."""

    def __init__(self, label: str, unit: str, console: Console | None = None) -> None:
        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                unit + ", {task.fields[rate]}/s, lag {task.fields[lag]}, ETA {task.fields[eta]}"
            ),
            console=console or Console(stderr=True),
        )
        self._label = label
        self._task: TaskID | None = None

    def show(self, p: Progress) -> None:
        rate, lag, eta = f"{p.rate:,.0f}", f"{p.lag:,}", _eta(p)
        if self._task is None:
            self._bar.start()
            self._task = self._bar.add_task(self._label, total=p.total, rate=rate, lag=lag, eta=eta)
        self._bar.update(self._task, completed=p.done, total=p.total, rate=rate, lag=lag, eta=eta)

    def stop(self) -> None:
        if self._task is not None:
            self._bar.stop()
            self._task = None


_active: _Bar | None = None


def progress_printer(label: str, unit: str = "records") -> ProgressCallback:
    """A callback for replay/rebuild; the work already rate-limits its reports.

    On a terminal it draws a bar until ``end_progress_line``; otherwise each report
    is one log line (JSON in JSON mode) with the same figures.
    """
    global _active
    if sys.stderr.isatty():
        end_progress_line()
        _active = _Bar(label, unit)
        return _active.show

    def show(p: Progress) -> None:
        log.info(
            label,
            unit=unit,
            done=p.done,
            total=p.total,
            rate=round(p.rate, 1),
            lag=p.lag,
            eta=_eta(p),
        )

    return show


def end_progress_line() -> None:
    global _active
    if _active is not None:
        _active.stop()
        _active = None


@contextmanager
def progress_display(label: str, unit: str = "records") -> Iterator[ProgressCallback]:
    """``progress_printer`` whose bar is closed however the work ends."""
    try:
        yield progress_printer(label, unit)
    finally:
        end_progress_line()
