"""The publisher's events handler: folds queue events into its tables, acts on starts.

Every queue item event is folded with the decider's own ``evolve`` (one definition
of the lifecycle), skipping events already folded (redelivered decisions repeat
them with the same sequence). ``PublishStarted`` then runs the attempt;
``ConnectionDeleted`` destroys the connection's data key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
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
from streams.publishing.attempt import OUTAGES, AttemptRunner
from streams.publishing.connections import Connections
from streams.publishing.tracking import Tracked, Tracker
from streams.runtime.faust_agent import EventHandler

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
        # Attempts started by the event being handled; the agent acks it once they end.
        self.spawned: list[asyncio.Task[None]] = []

    def take_spawned(self) -> list[asyncio.Task[None]]:
        spawned, self.spawned = self.spawned, []
        return spawned

    async def handle(self, decoded: Decoded[Message], bound: Any) -> None:
        envelope, event = decoded.envelope, decoded.message
        if isinstance(event, ConnectionDeleted):
            destroyed = await self.connections.destroy(envelope.aggregate_id)
            bound.info("connection_key_destroyed", destroyed=destroyed)
            return
        key = str(envelope.aggregate_id)
        tracked = self.fold(key, decoded, bound)
        if tracked is not None and isinstance(event, PublishStarted):
            # Beside the agent: one slow platform doesn't hold up the other items. The
            # task inherits the event's context, so its table writes go to its partition.
            attempt = self.runner.run(key, envelope, event, tracked, bound)
            self.spawned.append(asyncio.create_task(_guarded(attempt, bound)))

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


async def _guarded(attempt: Coroutine[Any, Any, None], bound: Any) -> None:
    """Runs an attempt. An outage is raised into the acks, which stop the process: its
    event is redelivered after the restart and, with its calling mark, reconciled
    before anything is sent again. A bug of ours was reported as the attempt's
    failure by the runner already; one that breaks even that report is logged and
    counted, its event acked, and the item stays ``publishing`` (see the runbook)."""
    try:
        await attempt
        metrics.AGENT_EVENTS.labels(PublishHandler.name, "attempt").inc()
    except OUTAGES:
        bound.exception("publish_attempt_outage")
        raise
    except Exception:
        bound.exception("publish_attempt_crashed")
        metrics.AGENT_EVENTS.labels(PublishHandler.name, "crashed").inc()
