"""Progress on a terminal (a rich bar) and elsewhere (log lines with the same figures)."""

from __future__ import annotations

import io

from rich.console import Console
from structlog.testing import capture_logs

from projections.progress import Progress
from wavestack import progress


def test_a_terminal_gets_a_bar_with_count_rate_lag_and_eta() -> None:
    screen = io.StringIO()
    bar = progress._Bar(
        "dlq replay", "letters", Console(file=screen, force_terminal=True, width=120)
    )

    bar.show(Progress(done=10, total=40, rate=5.0, eta_seconds=6.0))
    bar.show(Progress(done=40, total=40, rate=8.0, eta_seconds=0.0))
    bar.stop()

    shown = screen.getvalue()
    assert "dlq replay" in shown
    assert "40/40" in shown
    assert "letters, 8/s, lag 0, ETA 0s" in shown


def test_elsewhere_each_report_is_a_log_line() -> None:
    with capture_logs() as logs, progress.progress_display("rebuild") as show:
        show(Progress(done=3, total=9, rate=1.5, eta_seconds=None))  # not a terminal: pytest

    assert logs == [
        {
            "event": "rebuild",
            "unit": "records",
            "done": 3,
            "total": 9,
            "rate": 1.5,
            "lag": 6,
            "eta": "?",
            "log_level": "info",
        }
    ]
