"""Manual acks: each message is acknowledged only once its processing has returned."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from faust.streams import Stream
from faust.types import EventT, StreamT
from faust.types.tuples import Message


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
