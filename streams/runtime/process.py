"""Running a plain-aiokafka process: until SIGTERM or SIGINT, following its group's rebalances."""

from __future__ import annotations

import asyncio
import contextlib
import io
import signal
from collections.abc import Callable
from typing import Protocol

import structlog
from aiokafka import TopicPartition
from aiokafka.abc import ConsumerRebalanceListener

from probes import health

log = structlog.get_logger("streams.runtime.process")

# A stop that takes longer than this is reported with what every task is waiting on,
# so a hang shows where it is (the orchestrator's kill leaves no trace of its own).
SLOW_STOP_SECONDS = 12.0


class Process(Protocol):
    """One process's work. If it has a ``consumer`` (its aiokafka group member), the
    health probes watch that consumer's coordinator (kafka-unreachable, probes/health.py)."""

    def stop(self) -> None: ...
    async def run(self) -> None: ...


class Member(Protocol):
    """A process whose consumer is in a group: it is told which partitions come and go."""

    async def revoked(self, revoked: set[TopicPartition]) -> None: ...
    async def assigned(self, assigned: set[TopicPartition]) -> None: ...


class Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """aiokafka's listener, handing both halves of a rebalance to the process (if it keeps
    state per partition) and telling the readiness probe where the group stands: not
    ready from the revocation until the member has taken its new partitions, which for
    the decider and the media process means their stores are restored."""

    def __init__(self, member: Member | None = None) -> None:
        self.member = member

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        health.rebalancing()
        if self.member is not None:
            await self.member.revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        if self.member is not None:
            health.restoring(assigned)
            await self.member.assigned(assigned)
        health.assigned(assigned)


def run_until_signalled(make: Callable[[], Process]) -> None:
    """Builds the process inside the event loop (its clients bind to that loop) and runs
    it; SIGTERM and SIGINT ask it to stop, and it returns once it has. The loop beats
    for the liveness probe from its first moment."""

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        health.beat_on(loop)
        process = make()
        consumer = getattr(process, "consumer", None)
        if consumer is not None:
            health.watch_group(consumer)

        def stop() -> None:
            health.stopping()
            process.stop()
            reports.append(asyncio.create_task(_report_if_slow(SLOW_STOP_SECONDS)))

        reports: list[asyncio.Task[None]] = []

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
        await process.run()
        for report in reports:
            report.cancel()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


async def _report_if_slow(seconds: float) -> None:
    await asyncio.sleep(seconds)
    me = asyncio.current_task()
    stacks = io.StringIO()
    for task in asyncio.all_tasks():
        if task is not me:
            task.print_stack(limit=8, file=stacks)
    log.warning("stop_slow", seconds=seconds, tasks=stacks.getvalue())
