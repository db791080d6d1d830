"""The publisher's agent: events in log order, attempts beside it, acks in log order.

Folding is done in the agent, one event at a time, so the tables see every item's
events in order. An attempt (a platform call) runs as a task; the event that started
it is acked only once it ended, and every event after it waits for that ack (the
pipeline acks in order), so a crash redelivers every event whose work was not done.
``WINDOW`` bounds the events in flight, hence the attempts running at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import cast

import faust
from faust.streams import Stream
from faust.types import EventT, StreamT

from schemas.catalog import Topics
from streams.publishing.handler import PublishHandler
from streams.runtime.acking import AckPipeline
from streams.runtime.faust_agent import EventAgent

WINDOW = 256


class PublisherAgent(EventAgent):
    def __init__(self, app: faust.App, topics: Topics, handlers: Sequence[PublishHandler]) -> None:
        super().__init__(app, topics, handlers)
        self.handlers = handlers

    async def run(self, stream: StreamT[bytes]) -> None:
        manual = cast(Stream[bytes], stream).noack()
        event: EventT[bytes]
        running: set[asyncio.Task[None]] = set()
        try:
            async with AckPipeline(manual.ack, WINDOW) as pipeline:
                async for event in manual.events():
                    await self.process(event.message)
                    attempts = [t for h in self.handlers for t in h.take_spawned()]
                    running.update(attempts)
                    for task in attempts:
                        task.add_done_callback(running.discard)
                    await pipeline.push(event, list(attempts))
        finally:
            # Stopping: an attempt cut off here keeps its calling mark and its event
            # stays unacked, so the next start reconciles it.
            for task in running:
                task.cancel()
