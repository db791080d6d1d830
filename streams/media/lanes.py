"""Work beside the fetch loop: one aggregate's events in log order, each lane at most N at once.

Clips run ``WAVESTACK_CLIP_CONCURRENCY`` at once and probes beside them in a lane of
their own, so a registration never waits behind a clip. Two events of one aggregate
never overlap: the later waits for the earlier (before taking a slot, so a waiting
event holds none), which keeps a job's attempt count and ``done`` mark consistent.

Whatever work raises is a bug or a send Kafka gave up on (the agent catches what it
expects): the process stops (``SEND_LOST_EXIT``) rather than commit past it.
Cancelled work (shutdown, a partition moving away) is simply unfinished: its offset
stays uncommitted and the event is redone.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import structlog
from aiokafka import TopicPartition

from streams.runtime.acking import SEND_LOST_EXIT

log = structlog.get_logger("streams.media.lanes")


@dataclass(frozen=True)
class Work:
    chain: str  # the aggregate id: work of one chain runs in the order it was started
    lane: str | None  # whose slots it takes (None: no limit)
    run: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Running:
    tp: TopicPartition
    lane: str | None


class Lanes:
    def __init__(self, slots: dict[str, int]) -> None:
        self._slots = {lane: asyncio.Semaphore(n) for lane, n in slots.items()}
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._running: dict[asyncio.Task[None], Running] = {}

    def __len__(self) -> int:
        return len(self._running)

    def start(self, tp: TopicPartition, work: Work, finished: Callable[[], None]) -> None:
        """Runs ``work`` after the chain's previous work; ``finished`` once it succeeded."""
        previous = self._tails.get(work.chain)
        task = asyncio.create_task(self._run(previous, work, finished), name=f"media-{work.chain}")
        self._tails[work.chain] = task
        self._running[task] = Running(tp, work.lane)
        task.add_done_callback(lambda t: self._ended(t, work.chain))

    async def _run(
        self, previous: asyncio.Task[None] | None, work: Work, finished: Callable[[], None]
    ) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        slots = self._slots.get(work.lane) if work.lane is not None else None
        if slots is None:
            await work.run()
        else:
            async with slots:
                await work.run()
        finished()

    def _ended(self, task: asyncio.Task[None], chain: str) -> None:
        self._running.pop(task, None)
        if self._tails.get(chain) is task:
            del self._tails[chain]
        if not task.cancelled() and task.exception() is not None:
            log.critical("work_lost_stopping", error=repr(task.exception()))
            os._exit(SEND_LOST_EXIT)

    async def cancel(self, which: Callable[[Running], bool]) -> int:
        """Cancels the work ``which`` selects and waits until it has stopped; returns how many."""
        tasks = [t for t, r in self._running.items() if which(r)]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        return len(tasks)

    async def cancel_partitions(self, tps: Iterable[TopicPartition]) -> int:
        gone = set(tps)
        return await self.cancel(lambda r: r.tp in gone)

    async def wait(self, seconds: float, which: Callable[[Running], bool] = lambda r: True) -> None:
        """Waits up to ``seconds`` for the running work ``which`` selects."""
        tasks = [t for t, r in self._running.items() if which(r)]
        if tasks:
            await asyncio.wait(tasks, timeout=seconds)
