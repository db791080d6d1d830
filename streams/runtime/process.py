"""Running a plain-aiokafka process: until SIGTERM or SIGINT, following its group's rebalances."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from typing import Protocol

from aiokafka import TopicPartition
from aiokafka.abc import ConsumerRebalanceListener


class Process(Protocol):
    def stop(self) -> None: ...
    async def run(self) -> None: ...


class Member(Protocol):
    """A process whose consumer is in a group: it is told which partitions come and go."""

    async def revoked(self, revoked: set[TopicPartition]) -> None: ...
    async def assigned(self, assigned: set[TopicPartition]) -> None: ...


class Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """aiokafka's listener, handing both halves of a rebalance to the process."""

    def __init__(self, member: Member) -> None:
        self.member = member

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.member.revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.member.assigned(assigned)


def run_until_signalled(make: Callable[[], Process]) -> None:
    """Builds the process inside the event loop (its clients bind to that loop) and runs
    it; SIGTERM and SIGINT ask it to stop, and it returns once it has."""

    async def serve() -> None:
        process = make()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, process.stop)
        await process.run()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
