"""The media process's routing: which events need work, and that work (a handler, or the DLQ).

Handlers act on facts and report back through commands, so the decider stays the
only writer of events. An event's offset is committed only after its handler's
commands are acknowledged by Kafka (streams/media/app.py), so a crash means the event
comes again and the handler redoes its work under the same derived command ids,
which the decider answers once.

Most events on the topic are not the media process's: ``wanted`` answers that from
the ``type`` header with one dict lookup, before anything is parsed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar

import structlog
from aiokafka import AIOKafkaProducer

from schemas.base import Command, Message
from schemas.catalog import Topics
from schemas.codec import Decoded, DecodeError, encode, read, wrap
from schemas.envelope import Actor, Envelope
from streams import metrics
from streams.decider.poison import salvage
from streams.media.jobs import Jobs
from streams.media.lanes import Work
from streams.runtime.consuming import of_types
from streams.runtime.producing import produce, send_dead_letters
from streams.runtime.sending import Consumed, DeadLetters, Outgoing, SendRefused

# The consumer name in DLQ headers and metrics (the Faust agent's name, kept).
AGENT = "media-agent"
WORKER_ACTOR = Actor(sub="wavestack-worker", kind="service")
# Work that is not a handler's (dead letters) shares one chain: it is rare.
DLQ_CHAIN = "\x00dead-letters"

log = structlog.get_logger("streams.agents")


def command_for(
    cause: Envelope, command: Command, command_id: uuid.UUID, aggregate_id: uuid.UUID
) -> Envelope:
    """A handler's command about ``cause``: same organization and correlation, caused by it.

    ``occurred_at`` is now: it says when the worker did the work (the decider stamps
    the events with it). The fingerprint covers only the data, so a re-run that
    repeats the command id and data is still the same command.
    """
    return wrap(
        command,
        id=command_id,
        org_id=cause.org_id,
        aggregate_id=aggregate_id,
        occurred_at=datetime.now(UTC),
        command_id=command_id,
        correlation_id=cause.correlation_id,
        causation_id=cause.id,
        actor=WORKER_ACTOR,
    )


class EventHandler:
    """Does the work one kind of event asks for; subclasses set ``name`` and ``handles``.

    ``handle`` must be idempotent (events arrive at least once), must tolerate being
    cancelled anywhere (shutdown, a partition moving away: the event is redone), and
    should not raise for anything an event holds; if it does anyway, the event goes
    to the DLQ. ``name`` is also its lane (streams/media/lanes.py).
    """

    name: ClassVar[str]
    handles: ClassVar[frozenset[str]]

    def __init__(self, producer: AIOKafkaProducer, topics: Topics) -> None:
        self.producer = producer
        self.topics = topics

    async def handle(self, event: Decoded[Message], jobs: Jobs, bound: Any) -> None:
        """``event``: read once off the log; ``jobs``: its partition of ``media_jobs``."""
        raise NotImplementedError

    async def send(self, commands: Sequence[Envelope], bound: Any) -> None:
        """Produces the commands in order, keyed by their aggregate, and waits for the acks."""
        batch = [self.outgoing(c) for c in commands]
        retries = metrics.AGENT_SEND_RETRIES.labels(self.name)
        await produce(self.producer, batch, bound, on_retry=retries.inc)

    def outgoing(self, command: Envelope) -> Outgoing:
        return Outgoing(self.topics.commands, str(command.aggregate_id).encode(), encode(command))


class EventAgent:
    """Routes each event to the handler of its type; unreadable ones that may be ours to the DLQ."""

    def __init__(
        self, producer: AIOKafkaProducer, topics: Topics, handlers: Sequence[EventHandler]
    ) -> None:
        self.producer = producer
        self.topics = topics
        self.routes = {kind: h for h in handlers for kind in h.handles}
        # The header's raw bytes -> handler, so a pass costs no decoding.
        self._by_header = {kind.encode(): h for kind, h in self.routes.items()}
        self.dead_letters = DeadLetters(topics.dlq, AGENT)

    def wanted(self, headers: Sequence[tuple[str, bytes]]) -> bool:
        """False only for an event whose ``type`` header names no handler of ours."""
        return of_types(headers, self._by_header)

    def plan(self, message: Consumed, jobs: Jobs) -> Work | None:
        """The work ``message`` asks for, or None when it is not ours (done as read)."""
        bound = log.bind(partition=message.partition, offset=message.offset)
        try:
            event = read(message.value)
        except DecodeError as exc:
            if self._someone_elses(message.value):
                return None
            run = partial(self.dead_letter, message, str(exc), bound, "poison")
            return Work(DLQ_CHAIN, None, run)
        envelope = event.envelope
        handler = self.routes.get(envelope.type)
        if handler is None:
            return None
        bound = bound.bind(
            handler=handler.name,
            event_id=str(envelope.id),
            org_id=envelope.org_id,
            aggregate_id=str(envelope.aggregate_id),
        )
        run = partial(self.handle, handler, message, event, jobs, bound)
        return Work(str(envelope.aggregate_id), handler.name, run)

    async def handle(
        self,
        handler: EventHandler,
        message: Consumed,
        event: Decoded[Message],
        jobs: Jobs,
        bound: Any,
    ) -> None:
        try:
            await handler.handle(event, jobs, bound)
        except SendRefused as exc:
            await self.dead_letter(message, f"its commands were refused: {exc}", bound, "refused")
        except Exception as exc:  # a bug of ours: keep the event re-drivable from the DLQ
            bound.exception("handler_failed")
            await self.dead_letter(message, f"{handler.name} error: {exc!r}", bound, "error")

    async def dead_letter(self, message: Consumed, reason: str, bound: Any, cause: str) -> None:
        letter = self.dead_letters.letter(message, reason, cause, bound)
        await send_dead_letters(self.dead_letters, self.producer, [letter], bound)

    def _someone_elses(self, value: bytes | None) -> bool:
        """An unreadable message that names a type no handler takes is not our poison.

        The projector dead-letters every event it cannot read; this process adds its
        own copy only when the message might have been meant for one of its handlers.
        """
        kind = salvage(value).get("type")
        return isinstance(kind, str) and kind not in self.routes
