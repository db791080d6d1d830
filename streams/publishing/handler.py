"""The publisher's events handler: folds queue events into its tables, acts on starts.

Every queue item event is folded with the decider's own ``evolve`` (one definition
of the lifecycle), skipping events already folded (redelivered decisions repeat
them with the same sequence). ``PublishStarted`` then runs the attempt;
``ConnectionDeleted`` destroys the connection's data key.
"""

from __future__ import annotations

from typing import Any, ClassVar

import faust

from schemas.base import Message
from schemas.catalog import Topics
from schemas.codec import Decoded
from schemas.events import ItemCancelled, ItemEnqueued, ItemRescheduled
from schemas.publishing import (
    ConnectionDeleted,
    ItemFailed,
    ItemPublished,
    ItemRetried,
    ItemUnconfirmed,
    PublishAttemptFailed,
    PublishCheckpointed,
    PublishReconciled,
    PublishStarted,
)
from streams import metrics
from streams.domain.queue import evolve
from streams.media.agent import EventHandler
from streams.publishing.attempt import AttemptRunner
from streams.publishing.connections import Connections
from streams.publishing.tracking import Tracked, Tracker

QUEUE_EVENTS = (
    ItemEnqueued,
    ItemCancelled,
    ItemRescheduled,
    PublishStarted,
    PublishCheckpointed,
    ItemPublished,
    PublishAttemptFailed,
    ItemFailed,
    PublishReconciled,
    ItemUnconfirmed,
    ItemRetried,
)


class PublishHandler(EventHandler):
    name: ClassVar[str] = "publisher"
    handles: ClassVar[frozenset[str]] = frozenset(
        {e.TYPE for e in QUEUE_EVENTS} | {ConnectionDeleted.TYPE}
    )

    def __init__(
        self,
        app: faust.App,
        topics: Topics,
        tracker: Tracker,
        connections: Connections,
        runner: AttemptRunner,
    ) -> None:
        super().__init__(app, topics)
        self.tracker = tracker
        self.connections = connections
        self.runner = runner

    async def handle(self, decoded: Decoded[Message], bound: Any) -> None:
        envelope, event = decoded.envelope, decoded.message
        if isinstance(event, ConnectionDeleted):
            destroyed = await self.connections.destroy(envelope.aggregate_id)
            bound.info("connection_key_destroyed", destroyed=destroyed)
            return
        key = str(envelope.aggregate_id)
        tracked = self.fold(key, decoded, bound)
        if tracked is not None and isinstance(event, PublishStarted):
            await self.runner.run(key, envelope, event, tracked, bound)
            metrics.AGENT_EVENTS.labels(self.name, "attempt").inc()

    def fold(self, key: str, decoded: Decoded[Message], bound: Any) -> Tracked | None:
        envelope, event = decoded.envelope, decoded.message
        sequence = envelope.sequence or 0
        tracked = self.tracker.get(key)
        if isinstance(event, ItemEnqueued):
            if tracked is None:
                tracked = Tracked.enqueued(envelope, event, evolve(None, event))
                self.tracker.put(key, tracked)
            return tracked
        if tracked is None:
            bound.warning("queue_event_without_item", type=envelope.type)
            return None
        if sequence <= tracked.sequence:
            return tracked  # folded already: a redelivered decision repeats its events
        assert isinstance(event, QUEUE_EVENTS)
        try:
            state = evolve(tracked.state, event)
        except ValueError:
            bound.exception("queue_event_does_not_fold")
            return tracked
        tracked = tracked.model_copy(update={"state": state, "sequence": sequence})
        self.tracker.put(key, tracked)
        return tracked
