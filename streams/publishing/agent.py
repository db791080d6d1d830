"""The publisher's routing: which events are its own, folded in log order, and the work they ask.

Most events on the topic are not the publisher's: ``wanted`` answers that from the
``type`` header with one lookup, before anything is parsed. An unreadable message
that may be ours, or one whose fold hits a bug of ours, goes to the DLQ (the letter
is work like an attempt: its offset is committed once the DLQ has it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer

from schemas.catalog import Topics
from schemas.codec import DecodeError, read
from streams.decider.poison import salvage
from streams.publishing.handler import PublishHandler, Work
from streams.runtime.consuming import of_types
from streams.runtime.producing import send_dead_letters
from streams.runtime.sending import Consumed, DeadLetters

# The consumer its dead letters and their metric name: the process's role. (It named
# itself "media-agent" while it was the Faust event agent it shared with the media
# process; letters from then still say so.)
CONSUMER = "publisher"
# Events taken but not finished (attempts running), past which fetching pauses.
WINDOW = 256

log = structlog.get_logger("streams.agents")


class PublisherAgent:
    def __init__(self, producer: AIOKafkaProducer, topics: Topics, handler: PublishHandler) -> None:
        self.producer = producer
        self.handler = handler
        self._by_header = {kind.encode() for kind in handler.handles}
        self.dead_letters = DeadLetters(topics.dlq, CONSUMER)

    def wanted(self, headers: Sequence[tuple[str, bytes]]) -> bool:
        """False only for an event whose ``type`` header names no event of ours."""
        return of_types(headers, self._by_header)

    def plan(self, message: Consumed, key_at: Any) -> Work | None:
        """Folds ``message`` if it is ours; the work it asks for, or None (done as read).

        ``key_at(key)``: tells the tables which partition the item's events are on,
        before its record is read.
        """
        bound = log.bind(partition=message.partition, offset=message.offset)
        try:
            event = read(message.value)
        except DecodeError as exc:
            if self._someone_elses(message.value):
                return None
            return self.dead_letter(message, str(exc), bound, "poison")
        envelope = event.envelope
        if envelope.type not in self.handler.handles:
            return None
        bound = bound.bind(
            handler=self.handler.name,
            event_id=str(envelope.id),
            org_id=envelope.org_id,
            aggregate_id=str(envelope.aggregate_id),
        )
        key_at(str(envelope.aggregate_id))
        try:
            return self.handler.take(event, bound)
        except Exception as exc:  # a bug of ours: keep the event re-drivable from the DLQ
            bound.exception("handler_failed")
            return self.dead_letter(message, f"{self.handler.name} error: {exc!r}", bound, "error")

    async def dead_letter(self, message: Consumed, reason: str, bound: Any, cause: str) -> None:
        letter = self.dead_letters.letter(message, reason, cause, bound)
        await send_dead_letters(self.dead_letters, self.producer, [letter], bound)

    def _someone_elses(self, value: bytes | None) -> bool:
        """An unreadable message that names a type we do not take is not our poison."""
        kind = salvage(value).get("type")
        return isinstance(kind, str) and kind not in self.handler.handles
