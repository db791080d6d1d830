"""Manual acks: a message is acknowledged only once what it caused is on the log.

Two shapes. ``process_then_ack``: one message at a time, its processing awaited
(``faust_agent.EventAgent``'s default). ``AckPipeline``: many messages in
flight, acked in log order as each one's work finishes (the publisher: platform
calls run beside the agent).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, cast

import structlog
from faust.streams import Stream
from faust.types import EventT, StreamT
from faust.types.tuples import Message

log = structlog.get_logger("streams.acking")

E = TypeVar("E")

# Exit status of a worker that stopped itself because Kafka lost one of its sends.
SEND_LOST_EXIT = 70


async def process_then_ack(
    stream: StreamT[bytes], process: Callable[[Message], Awaitable[None]]
) -> None:
    """One message at a time, in log order; a crash or a cancellation leaves it unacked.

    An unacked message keeps its offset uncommitted, so it is read again after a
    restart — which is why ``process`` must be safe to repeat.
    """
    manual = cast(Stream[bytes], stream).noack()
    event: EventT[bytes]
    async for event in manual.events():
        await process(event.message)
        await manual.ack(event)


class AckPipeline(Generic[E]):
    """Acks events in the order they were pushed, each once all its work has finished.

    For agents whose work runs beside the stream (the publisher's platform calls):
    ``window`` bounds the events in flight (a full window makes ``push`` wait), so a
    crash redoes at most that many, and an event is never acked before one read
    earlier. Work that raises stops the process (``SEND_LOST_EXIT``): the agents
    catch what they expect, so what arrives here is a send Kafka gave up on (or a
    bug), and carrying on would ack events whose effects are not on the log.
    """

    def __init__(self, ack: Callable[[E], Awaitable[Any]], window: int) -> None:
        self._ack = ack
        self._queue: asyncio.Queue[tuple[E, list[Awaitable[Any]]]] = asyncio.Queue(maxsize=window)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AckPipeline[E]:
        self._task = asyncio.create_task(self._confirm(), name="ack-pipeline")
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Acks what finishes within a few seconds; the rest is redone after a restart."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout=5.0)
        except TimeoutError:
            log.warning("ack_pipeline_stopped_with_unfinished", count=self._queue.qsize())
        finally:
            if self._task is not None:
                self._task.cancel()

    async def push(self, event: E, work: list[Awaitable[Any]]) -> None:
        await self._queue.put((event, work))

    async def _confirm(self) -> None:
        while True:
            event, work = await self._queue.get()
            try:
                await asyncio.gather(*work)
            except Exception as exc:
                log.critical("work_lost_stopping", error=repr(exc))
                os._exit(SEND_LOST_EXIT)
            await self._ack(event)
            self._queue.task_done()
