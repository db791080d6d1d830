"""A Faust agent on the events topic: decode, hand each event to the handler of its type, ack.

The publisher's agent builds on it (streams/publishing/). It was the media app's
until the media process left Faust (streams/media/app.py); the routing rules are the
same there: a ``type`` header naming no handler is passed by without parsing, an
unreadable message that may be ours goes to the DLQ once, a handler's unexpected
error dead-letters its event.

Acks are manual (``stream.noack()``): an event is acknowledged only after its
handler's commands are acknowledged by Kafka, so a crash means the event comes again
and the handler redoes its work under the same derived command ids.

One agent, not one per handler: faust hands a message read by two agents to both,
and on a rebalance or shutdown it drops the copies still queued without acking
them. The agent that already acked its copy keeps a reference to the message
(its stream's last one), so the message is neither acked nor collected and
``wait_empty`` waits for it forever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import faust
import structlog
from faust.types import StreamT
from faust.types.tuples import Message as Consumed

from schemas.base import Message
from schemas.catalog import Topics
from schemas.codec import Decoded, DecodeError, encode, read
from schemas.envelope import Envelope
from streams import metrics
from streams.decider.poison import salvage
from streams.runtime.acking import process_then_ack
from streams.runtime.sending import TYPE_HEADER, DeadLetters, Outgoing, SendRefused, produce

# The name the agent dead-lettered under when it was the media app's; the publisher's
# agent still passes none, so its letters keep saying it.
DEFAULT_CONSUMER = "media-agent"

log = structlog.get_logger("streams.agents")


class EventHandler:
    """Does the work one kind of event asks for; subclasses set ``name`` and ``handles``.

    ``handle`` must be idempotent (events arrive at least once) and should not raise
    for anything an event holds; if it does anyway, the event goes to the DLQ.
    """

    name: ClassVar[str]
    handles: ClassVar[frozenset[str]]

    def __init__(self, app: faust.App, topics: Topics) -> None:
        self.app = app
        self.topics = topics

    async def handle(self, event: Decoded[Message], bound: Any) -> None:
        """``event``: read once off the log; its payload is validated already."""
        raise NotImplementedError

    async def send(self, commands: Sequence[Envelope], bound: Any) -> None:
        """Produces the commands in order, keyed by their aggregate, and waits for the acks."""
        batch = [self.outgoing(c) for c in commands]
        retries = metrics.AGENT_SEND_RETRIES.labels(self.name)
        await produce(self.app, batch, bound, on_retry=retries.inc)

    def outgoing(self, command: Envelope) -> Outgoing:
        return Outgoing(self.topics.commands, str(command.aggregate_id).encode(), encode(command))


class EventAgent:
    """The agent's body: routes each event to the handler of its type, in log order."""

    def __init__(
        self,
        app: faust.App,
        topics: Topics,
        handlers: Sequence[EventHandler],
        name: str = DEFAULT_CONSUMER,
    ) -> None:
        """``name``: the consumer named in DLQ headers and metrics."""
        self.app = app
        self.topics = topics
        self.routes = {kind: h for h in handlers for kind in h.handles}
        self.dead_letters = DeadLetters(topics.dlq, name)

    async def run(self, stream: StreamT[bytes]) -> None:
        await process_then_ack(stream, self.process)

    async def process(self, message: Consumed) -> None:
        bound = log.bind(partition=message.partition, offset=message.offset)
        if _type_header(message) not in (None, *self.routes):
            return  # another consumer's event: not even worth parsing
        try:
            event = read(message.value)
        except DecodeError as exc:
            if self._someone_elses(message.value):
                return
            await self.dead_letter(message, str(exc), bound, "poison")
            return
        envelope = event.envelope
        handler = self.routes.get(envelope.type)
        if handler is None:
            return
        bound = bound.bind(
            handler=handler.name,
            event_id=str(envelope.id),
            org_id=envelope.org_id,
            aggregate_id=str(envelope.aggregate_id),
        )
        try:
            await handler.handle(event, bound)
        except SendRefused as exc:
            await self.dead_letter(message, f"its commands were refused: {exc}", bound, "refused")
        except Exception as exc:  # a bug of ours: keep the event re-drivable from the DLQ
            bound.exception("handler_failed")
            await self.dead_letter(message, f"{handler.name} error: {exc!r}", bound, "error")

    async def dead_letter(self, message: Consumed, reason: str, bound: Any, cause: str) -> None:
        letter = self.dead_letters.letter(message, reason, cause, bound)
        await self.dead_letters.send(self.app, [letter], bound)

    def _someone_elses(self, value: bytes | None) -> bool:
        """An unreadable message that names a type no handler takes is not our poison.

        The projector dead-letters every event it cannot read; this agent adds its
        own copy only when the message might have been meant for one of its handlers.
        """
        kind = salvage(value).get("type")
        return isinstance(kind, str) and kind not in self.routes


def _type_header(message: Consumed) -> str | None:
    """The ``type`` header the decider puts on every event (None on older records)."""
    headers = message.headers
    if isinstance(headers, Mapping):
        value = headers.get(TYPE_HEADER)
    else:
        value = next((v for k, v in headers or () if k == TYPE_HEADER), None)
    return None if value is None else value.decode(errors="replace")
