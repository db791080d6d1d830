"""Manual acks: a message is acknowledged only once what it caused is on the log.

Two shapes. ``process_then_ack``: one message at a time, its processing awaited
(the media agent: a clip is minutes of work). ``AckPipeline``: many messages in
flight, acked in log order as each one's work is confirmed (the publisher: platform
calls run beside the agent).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
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
    """Acks events in the order they were pushed, each once all its sends are confirmed.

    ``window`` bounds the events in flight (a full window makes ``push`` wait), so a
    crash redoes at most that many. ``keys`` of an event name what it changed;
    ``in_flight(key)`` says how many unconfirmed events changed it.

    A send Kafka gives up on stops the process (``SEND_LOST_EXIT``): its event and
    every later one stay unacked and are redone after a restart, which answers them
    from the stored decisions in the same order. Carrying on instead could put a
    later decision on the log before an earlier one of the same aggregate.
    """

    def __init__(self, ack: Callable[[E], Awaitable[Any]], window: int) -> None:
        self._ack = ack
        self._queue: asyncio.Queue[tuple[E, list[Awaitable[Any]], tuple[str, ...]]]
        self._queue = asyncio.Queue(maxsize=window)
        self._keys: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AckPipeline[E]:
        self._task = asyncio.create_task(self._confirm(), name="ack-pipeline")
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Acks what Kafka confirms within a few seconds; the rest is redone after a restart."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout=5.0)
        except TimeoutError:
            log.warning("ack_pipeline_stopped_with_unconfirmed", count=self._queue.qsize())
        finally:
            if self._task is not None:
                self._task.cancel()

    async def push(self, event: E, sends: list[Awaitable[Any]], keys: Iterable[str] = ()) -> None:
        held = tuple(keys)
        self._keys.update(held)
        await self._queue.put((event, sends, held))

    def in_flight(self, key: str) -> int:
        return self._keys[key]

    @property
    def size(self) -> int:
        return self._queue.qsize()

    async def drain(self) -> None:
        """Waits until every pushed event is acked."""
        await self._queue.join()

    async def _confirm(self) -> None:
        while True:
            event, sends, keys = await self._queue.get()
            try:
                await asyncio.gather(*sends)
            except Exception as exc:  # every retry aiokafka makes is behind us
                log.critical("send_lost_stopping", error=repr(exc))
                os._exit(SEND_LOST_EXIT)
            await self._ack(event)
            self._keys.subtract(keys)
            for key in keys:
                if self._keys[key] <= 0:
                    del self._keys[key]
            self._queue.task_done()
