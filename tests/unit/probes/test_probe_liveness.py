"""Liveness: the event loop's heartbeat, judged by an injected clock (and one real loop)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import cast

from probes.health import BEAT_SECONDS, LOOP_STALLED, STARTING, Answer, Health


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_liveness_fails_until_the_loop_has_beaten_once() -> None:
    clock = Clock()
    health = Health(clock)
    clock.now += 30
    answer = health.liveness()
    assert answer.status == 503
    assert answer.body["reason"] == STARTING
    assert "not started" in answer.body["detail"]


def test_a_fresh_heartbeat_is_alive_up_to_the_limit() -> None:
    clock = Clock()
    health = Health(clock, stale_after=15.0)
    health.beat()
    clock.now += 15.0
    answer = health.liveness()
    assert answer.status == 200
    assert answer.body["status"] == "ok"
    assert answer.body["last_beat_seconds"] == 15.0


def test_a_heartbeat_older_than_the_limit_fails_liveness_and_says_how_old() -> None:
    clock = Clock()
    health = Health(clock, stale_after=15.0)
    health.beat()
    clock.now += 15.5
    answer = health.liveness()
    assert answer.status == 503
    assert answer.body["status"] == "unresponsive"
    assert answer.body["reason"] == LOOP_STALLED
    assert "15.5 s ago" in answer.body["detail"]
    assert "limit 15 s" in answer.body["detail"]


def test_the_next_heartbeat_makes_a_stalled_loop_alive_again() -> None:
    clock = Clock()
    health = Health(clock, stale_after=15.0)
    health.beat()
    clock.now += 60
    assert health.liveness().status == 503
    health.beat()
    assert health.liveness().status == 200


def test_a_blocked_loop_fails_liveness_while_the_probe_thread_still_answers() -> None:
    """The probes answer from their own thread: a loop held by a blocking call does not
    beat, and the answer given meanwhile says so (the loop could not have answered)."""
    health = Health(stale_after=0.3, beat_seconds=0.02)
    seen: list[Answer] = []

    def probe_later() -> None:
        time.sleep(0.6)
        seen.append(health.liveness())

    async def scenario() -> tuple[int, int]:
        await asyncio.sleep(0.2)
        before = health.liveness().status
        prober = threading.Thread(target=probe_later)
        prober.start()
        time.sleep(1.0)  # the bug a liveness probe is for: the loop is held
        prober.join()
        await asyncio.sleep(0.1)
        return before, health.liveness().status

    loop = asyncio.new_event_loop()
    try:
        health.beat_on(loop)
        before, after = loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert before == 200
    [during] = seen
    assert during.status == 503
    assert during.body["reason"] == LOOP_STALLED
    assert after == 200


class FakeLoop:
    """Records what the heartbeat schedules instead of running it."""

    def __init__(self) -> None:
        self.scheduled: list[tuple[float, Callable[..., object], tuple[object, ...]]] = []

    def call_soon(self, callback: Callable[..., object], *args: object) -> None:
        self.scheduled.append((0.0, callback, args))

    def call_later(self, delay: float, callback: Callable[..., object], *args: object) -> None:
        self.scheduled.append((delay, callback, args))

    def is_closed(self) -> bool:
        return False

    def run_next(self) -> None:
        _, callback, args = self.scheduled.pop(0)
        callback(*args)


def test_each_beat_schedules_the_next_one_second_later() -> None:
    clock = Clock()
    health = Health(clock)
    loop = FakeLoop()
    health.beat_on(cast(asyncio.AbstractEventLoop, loop))
    health.beat_on(cast(asyncio.AbstractEventLoop, loop))  # the same loop: no second chain
    assert len(loop.scheduled) == 1
    loop.run_next()
    assert health.liveness().status == 200
    assert [delay for delay, _, _ in loop.scheduled] == [BEAT_SECONDS]


def test_beating_moves_to_a_new_loop_and_the_old_chain_ends() -> None:
    """As when a process runs asyncio.run twice: the first loop's beats stop."""
    clock = Clock()
    health = Health(clock)
    old, new = FakeLoop(), FakeLoop()
    health.beat_on(cast(asyncio.AbstractEventLoop, old))
    old.run_next()
    health.beat_on(cast(asyncio.AbstractEventLoop, new))
    clock.now += 100
    old.run_next()  # a beat the old loop had scheduled
    assert health.liveness().status == 503
    assert old.scheduled == []
    new.run_next()
    assert health.liveness().status == 200


def test_a_closed_loop_is_left_alone() -> None:
    """A Faust app made after its loop was closed must not fail on the heartbeat."""
    health = Health(Clock())
    loop = asyncio.new_event_loop()
    loop.close()
    health.beat_on(loop)
    assert health.liveness().status == 503
