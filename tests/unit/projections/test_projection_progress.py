"""Progress reports of replay and rebuild: rate, lag and ETA from records done."""

from __future__ import annotations

from projections.progress import Progress, ProgressMeter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_and_eta_follow_from_records_done_and_time_spent() -> None:
    clock = FakeClock()
    meter = ProgressMeter(1000, None, clock=clock)
    clock.now += 2.0

    progress = meter.measure(400)

    assert progress == Progress(done=400, total=1000, rate=200.0, eta_seconds=3.0)
    assert progress.lag == 600


def test_a_finished_run_has_no_lag_and_a_zero_eta_even_with_nothing_to_do() -> None:
    meter = ProgressMeter(0, None, clock=FakeClock())

    progress = meter.measure(0)

    assert (progress.lag, progress.eta_seconds) == (0, 0.0)


def test_done_never_exceeds_total_when_records_are_read_twice_after_a_retry() -> None:
    clock = FakeClock()
    meter = ProgressMeter(10, None, clock=clock)
    clock.now += 1.0

    assert meter.measure(15).done == 10


def test_reports_are_throttled_but_a_forced_report_always_goes_out() -> None:
    clock = FakeClock()
    seen: list[Progress] = []
    meter = ProgressMeter(100, seen.append, interval=0.5, clock=clock)

    meter.update(10)
    clock.now += 0.1
    meter.update(20)
    meter.update(30, force=True)
    clock.now += 0.6
    meter.update(40)

    assert [p.done for p in seen] == [10, 30, 40]
