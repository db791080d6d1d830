"""Liveness and readiness of a process that serves no HTTP API, answered from its own state.

How a process reports (one state per process, like prometheus_client's registry).
Every call is cheap, is made from the process's event loop, and never talks to Kafka
or PostgreSQL; the probes only read what these calls left:

    from probes import health

    health.beat_on(loop)            # once the loop exists: a heartbeat every second
    health.watch_group(consumer)    # an aiokafka group member, once it has started
    health.rebalancing()            # partitions revoked: not ready until assigned again
    health.restoring(partitions)    # assigned, its state being restored: not ready
    health.assigned(partitions)     # doing its job; no partitions is a ready standby
    health.failing(reason, detail)  # a dependency is down (POSTGRES_UNREACHABLE, ...)
    health.recovered(reason)        # ... and answers again (no reason: all of them)
    health.stopping()               # SIGTERM: not ready while it winds down

``probes.server.serve(port, host)`` (the CLI starts it) answers ``/healthz`` and
``/readyz`` from that state and ``/metrics`` as before. docs/operations.md ("Probes")
says what each answer means.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

log = structlog.get_logger("probes.health")

BEAT_SECONDS = 1.0
# A loop that has not run its heartbeat for this long is wedged (a blocking call, a
# busy loop) and liveness fails. Far above the longest step that holds a loop on
# purpose (a decider batch, a projector fold: about a second).
STALE_AFTER_SECONDS = 15.0
# How long a group's coordinator may stay unknown before readiness says Kafka is
# unreachable: a coordinator moving to another broker is found again within seconds.
KAFKA_GRACE_SECONDS = 10.0

# The reasons a probe gives (the JSON body's "reason").
STARTING = "starting"
REBALANCING = "rebalancing"
RESTORING = "restoring"
READY = "ready"
STOPPING = "stopping"
LOOP_STALLED = "loop-stalled"
KAFKA_UNREACHABLE = "kafka-unreachable"
POSTGRES_UNREACHABLE = "postgres-unreachable"
FAILING = "failing"  # retrying after an error that is neither of the two above

STANDBY = "no partitions assigned: a standby (the group has more members than partitions)"


class Partition(Protocol):
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class _Phase:
    name: str
    detail: str
    since: float
    partitions: tuple[str, ...] = ()


@dataclass
class _Watch:
    check: Callable[[], str | None]  # None: fine; else what is wrong
    grace: float
    since: float | None = None
    broken: bool = False


class Health:
    """What the probes read: written from the process's event loop, read by the HTTP thread.

    Whatever the HTTP thread reads is replaced whole, never changed in place, so a
    probe sees one consistent value without a lock.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        stale_after: float = STALE_AFTER_SECONDS,
        beat_seconds: float = BEAT_SECONDS,
    ) -> None:
        self._clock = clock
        self.stale_after = stale_after
        self._beat_seconds = beat_seconds
        self._started = clock()
        self._last_beat: float | None = None
        self._phase = _Phase(STARTING, "loading; the consumer has not joined its group", clock())
        self._was_ready = False
        self._failures: dict[str, str] = {}
        self._watched: dict[str, str] = {}
        self._watches: dict[str, _Watch] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- the process's side (its event loop) --

    def beat_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Beats every second on ``loop`` from the moment it runs (callbacks, no task)."""
        if self._loop is loop or loop.is_closed():
            return
        self._loop = loop
        loop.call_soon(self._beat, loop)

    def _beat(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop is not self._loop:
            return  # beating moved to a newer loop
        self.beat()
        loop.call_later(self._beat_seconds, self._beat, loop)

    def beat(self) -> None:
        """The loop ran just now; the watches are looked at on the same occasion."""
        now = self._clock()
        self._last_beat = now
        watched: dict[str, str] = {}
        for reason, watch in self._watches.items():
            detail = self._look(reason, watch)
            if detail is None:
                watch.since = None
                continue
            watch.since = now if watch.since is None else watch.since
            # Before the first assignment the process is starting, whatever it waits for.
            if self._was_ready and now - watch.since >= watch.grace:
                watched[reason] = detail
        if watched != self._watched:
            self._watched = watched
            self._say()

    def _look(self, reason: str, watch: _Watch) -> str | None:
        try:
            return watch.check()
        except Exception:  # a broken check must not stop the heartbeat
            if not watch.broken:
                watch.broken = True
                log.exception("health_watch_failed", reason=reason)
            return None

    def watch(self, reason: str, check: Callable[[], str | None], grace: float) -> None:
        """Readiness fails with ``reason`` while ``check`` has said what is wrong for
        ``grace`` seconds; one check per reason (a later one replaces it)."""
        self._watches[reason] = _Watch(check, grace)

    def watch_group(self, consumer: object) -> None:
        """``kafka-unreachable`` once the consumer has lost its group's coordinator for
        KAFKA_GRACE_SECONDS."""
        self.watch(KAFKA_UNREACHABLE, lambda: coordinator_lost(consumer), KAFKA_GRACE_SECONDS)

    def rebalancing(self) -> None:
        if self._was_ready:
            self._enter(REBALANCING, "partitions revoked; waiting for the new assignment")
        else:
            self._enter(STARTING, "joining the consumer group")

    def restoring(self, partitions: Iterable[Partition]) -> None:
        names = _names(partitions)
        detail = f"restoring the state of {len(names)} partition(s) from the changelogs"
        self._enter(RESTORING, detail, names)

    def assigned(self, partitions: Iterable[Partition]) -> None:
        names = _names(partitions)
        self._was_ready = True
        self._enter(READY, "consuming" if names else STANDBY, names)

    def stopping(self) -> None:
        self._enter(STOPPING, "stopping; finishing the work in hand")

    def failing(self, reason: str, detail: str) -> None:
        if self._failures.get(reason) != detail:
            new = reason not in self._failures
            self._failures = {**self._failures, reason: detail}
            if new:
                self._say()

    def recovered(self, *reasons: str) -> None:
        kept = {r: d for r, d in self._failures.items() if reasons and r not in reasons}
        if kept != self._failures:
            self._failures = kept
            self._say()

    def _enter(self, name: str, detail: str, partitions: tuple[str, ...] = ()) -> None:
        phase = self._phase
        if phase.name == STOPPING:
            return  # a revocation during shutdown does not make it ready again
        if (phase.name, phase.detail, phase.partitions) != (name, detail, partitions):
            self._phase = _Phase(name, detail, self._clock(), partitions)
            self._say()

    def _say(self) -> None:
        phase = self._phase
        problems = {**self._failures, **self._watched}
        log.info(
            "readiness",
            ready=phase.name == READY and not problems,
            phase=phase.name,
            detail=phase.detail,
            partitions=len(phase.partitions),
            problems=problems or None,
        )

    # -- the probes' side (the HTTP thread) --

    def liveness(self) -> Answer:
        now = self._clock()
        problem = self._loop_problem(now)
        if problem is not None:
            reason, detail = problem
            status = "unresponsive" if reason == LOOP_STALLED else STARTING
            return Answer(503, {"status": status, "reason": reason, "detail": detail})
        assert self._last_beat is not None
        return Answer(
            200,
            {
                "status": "ok",
                "detail": "the event loop runs its heartbeat",
                "last_beat_seconds": round(now - self._last_beat, 3),
                "stale_after_seconds": self.stale_after,
            },
        )

    def readiness(self) -> Answer:
        now = self._clock()
        phase = self._phase
        problems = {**self._failures, **self._watched}
        problem = self._loop_problem(now)
        if problem is None and phase.name == STOPPING:
            problem = (STOPPING, phase.detail)
        if problem is None and problems:
            problem = next(iter(problems.items()))
        if problem is None and phase.name != READY:
            problem = (phase.name, phase.detail)
        common = {"phase": phase.name, "since_seconds": round(now - phase.since, 3)}
        if problem is not None:
            reason, detail = problem
            body = {"status": "not-ready", "reason": reason, "detail": detail, **common}
            if problems:
                body["problems"] = problems
            return Answer(503, body)
        return Answer(
            200,
            {
                "status": "ready",
                "detail": phase.detail,
                "partitions": list(phase.partitions),
                "standby": not phase.partitions,
                **common,
            },
        )

    def _loop_problem(self, now: float) -> tuple[str, str] | None:
        last = self._last_beat
        if last is None:
            waited = now - self._started
            return STARTING, f"the event loop has not started yet ({waited:.1f} s)"
        age = now - last
        if age > self.stale_after:
            return (
                LOOP_STALLED,
                f"the event loop last ran its heartbeat {age:.1f} s ago (limit "
                f"{self.stale_after:g} s): something blocks it",
            )
        return None


def coordinator_lost(consumer: object) -> str | None:
    """What is wrong if an aiokafka consumer has lost its group's coordinator, else None.

    aiokafka forgets the coordinator (``coordinator_id`` None) as soon as a request to
    it fails or the session lapses without a heartbeat answered, and looks it up again
    until a broker answers; it revokes nothing meanwhile, so the assignment alone would
    look fine. Private state, read defensively: a consumer without it (not started, no
    group) never looks unreachable.
    """
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None or not hasattr(coordinator, "coordinator_id"):
        return None
    if coordinator.coordinator_id is None:
        return "no broker answers as the consumer group's coordinator"
    return None


def _names(partitions: Iterable[Partition]) -> tuple[str, ...]:
    return tuple(sorted(f"{p.topic}:{p.partition}" for p in partitions))


HEALTH = Health()
beat_on = HEALTH.beat_on
watch = HEALTH.watch
watch_group = HEALTH.watch_group
rebalancing = HEALTH.rebalancing
restoring = HEALTH.restoring
assigned = HEALTH.assigned
stopping = HEALTH.stopping
failing = HEALTH.failing
recovered = HEALTH.recovered
