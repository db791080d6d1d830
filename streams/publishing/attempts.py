"""The work running beside the publisher's loop (attempts, mostly), by partition.

Whatever work raises is an outage or a send Kafka gave up on (the handler catches
what it expects): the process stops (``SEND_LOST_EXIT``) rather than commit past it;
the restart redelivers the event, whose calling mark makes it reconcile first.
Cancelled work (shutdown, a partition moving away) is simply unfinished: its offset
stays uncommitted and the event is taken again.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from aiokafka import TopicPartition

from streams.runtime.acking import SEND_LOST_EXIT

log = structlog.get_logger("streams.publishing.attempts")

Which = Callable[[TopicPartition], bool]


class Attempts:
    def __init__(self) -> None:
        self._running: dict[asyncio.Task[None], TopicPartition] = {}

    def __len__(self) -> int:
        return len(self._running)

    def start(
        self, tp: TopicPartition, work: Coroutine[Any, Any, None], finished: Callable[[], None]
    ) -> None:
        """Runs ``work``; ``finished`` once it succeeded."""
        task = asyncio.create_task(self._run(work, finished))
        self._running[task] = tp
        task.add_done_callback(self._ended)

    @staticmethod
    async def _run(work: Coroutine[Any, Any, None], finished: Callable[[], None]) -> None:
        await work
        finished()

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.critical("attempt_lost_stopping", error=repr(task.exception()))
            os._exit(SEND_LOST_EXIT)

    async def cancel(self, which: Which) -> int:
        """Cancels the work of the partitions ``which`` selects, once it has stopped."""
        tasks = [t for t, tp in self._running.items() if which(tp)]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        return len(tasks)

    async def wait(self, seconds: float, which: Which) -> None:
        tasks = [t for t, tp in self._running.items() if which(tp)]
        if tasks:
            await asyncio.wait(tasks, timeout=seconds)
