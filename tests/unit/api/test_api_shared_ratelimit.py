"""The shared bucket table: several limiters on one file behave as one limiter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.sharedlimit import SharedRateLimiter, create_table


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def table() -> Iterator[Path]:
    path = create_table(capacity=64)
    yield path
    path.unlink()


def test_two_limiters_on_one_table_share_each_organizations_bucket(table: Path) -> None:
    clock = Clock()
    a = SharedRateLimiter(table, rate=2.0, burst=4, clock=clock)
    b = SharedRateLimiter(table, rate=2.0, burst=4, clock=clock)
    taken = [limiter.take("org") for limiter in (a, b, a, b)]
    assert taken == [0.0, 0.0, 0.0, 0.0]
    # The burst of 4 is spent between them: the fifth waits half a second, in either.
    assert a.take("org") == pytest.approx(0.5)
    assert b.take("org") == pytest.approx(0.5)
    clock.now += 0.5
    assert b.take("org") == 0.0
    assert a.take("org") == pytest.approx(0.5)


def test_organizations_keep_separate_buckets_in_the_table(table: Path) -> None:
    limiter = SharedRateLimiter(table, rate=1.0, burst=1, clock=Clock())
    assert limiter.take("a") == 0.0
    assert limiter.take("b") == 0.0
    assert limiter.take("a") == pytest.approx(1.0)


def test_a_time_older_than_the_stored_one_adds_no_tokens(table: Path) -> None:
    clock = Clock()
    limiter = SharedRateLimiter(table, rate=1.0, burst=1, clock=clock)
    assert limiter.take("org") == 0.0
    clock.now -= 10  # another process's later time is stored; time never runs back
    assert limiter.take("org") == pytest.approx(1.0)


def test_refilled_buckets_are_pruned_so_new_organizations_fit(table: Path) -> None:
    clock = Clock()
    limiter = SharedRateLimiter(table, rate=1.0, burst=2, clock=clock)
    for n in range(40):  # 40 of 64 slots: below the pruning threshold (48)
        limiter.take(f"old-{n}")
    clock.now += 10  # every old bucket has refilled: they carry no information
    limiter.take("busy")
    limiter.take("busy")
    for n in range(40):
        # Each newcomer is tracked (not admitted untracked): its third request waits.
        assert [limiter.take(f"new-{n}") for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]
    # The one bucket that was not full survived the pruning, tokens and all.
    assert limiter.take("busy") == pytest.approx(1.0)


def test_a_table_full_of_active_organizations_admits_newcomers(table: Path) -> None:
    limiter = SharedRateLimiter(table, rate=1.0, burst=2, clock=Clock())
    for n in range(48):
        limiter.take(f"org-{n}")
    assert limiter.take("one-too-many") == 0.0
    assert limiter.take("one-too-many") == 0.0
    assert limiter.take("one-too-many") == 0.0  # not tracked: admitted, not refused
    assert limiter.take("org-0") == 0.0
    assert limiter.take("org-0") == pytest.approx(1.0)  # tracked ones still limited


def test_a_file_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other"
    path.write_bytes(bytes(128))
    with pytest.raises(ValueError, match="not a rate-limit table"):
        SharedRateLimiter(path, rate=1.0, burst=1)
