"""The publisher's events handler: folds queue events into its tables, acts on starts.

Every queue item event is folded with the decider's own ``evolve`` (one definition
of the lifecycle), skipping events already folded (redelivered decisions repeat
them with the same sequence). Folding is synchronous, in the events loop, so the
tables see every item's events in log order; what an event asks beyond that is
returned as work to run beside the loop: ``PublishStarted`` runs the attempt,
``ConnectionDeleted`` destroys the connection's data key. ``ItemPublished`` and
``PostMetricsRecorded`` keep the read-back entries (streams/publishing/metrics_tracking.py).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any, ClassVar

from schemas.base import Message
from schemas.codec import Decoded
from schemas.events import ItemCancelled, ItemEnqueued, ItemRescheduled
from schemas.publishing import (
    ConnectionDeleted,
    ItemFailed,
    ItemPublished,
    ItemRetried,
    ItemUnconfirmed,
    PostMetricsRecorded,
    PublishAttemptFailed,
    PublishCheckpointed,
    PublishReconciled,
    PublishStarted,
)
from streams import metrics
from streams.domain.queue import evolve
from streams.publishing.adapters.base import Adapter
from streams.publishing.attempt import OUTAGES, AttemptRunner
from streams.publishing.connections import Connections
from streams.publishing.metrics_schedule import ReadSchedule
from streams.publishing.metrics_tracking import Reads, on_published, on_recorded
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

Work = Coroutine[Any, Any, None]


class PublishHandler:
    name: ClassVar[str] = "publisher"
    handles: ClassVar[frozenset[str]] = frozenset(
        {e.TYPE for e in QUEUE_EVENTS} | {ConnectionDeleted.TYPE, PostMetricsRecorded.TYPE}
    )

    def __init__(
        self,
        tracker: Tracker,
        connections: Connections,
        runner: AttemptRunner,
        *,
        reads: Reads,
        adapters: Mapping[str, Adapter],
        schedule: ReadSchedule,
        clock: Callable[[], datetime],
    ) -> None:
        self.tracker = tracker
        self.connections = connections
        self.runner = runner
        self.reads = reads
        # Filled when the publisher's resources open, before the loop runs.
        self.adapters = adapters
        self.schedule = schedule
        self.clock = clock

    def take(self, decoded: Decoded[Message], bound: Any) -> Work | None:
        """Folds the event; returns the work it asks for beside the loop, if any."""
        envelope, event = decoded.envelope, decoded.message
        key = str(envelope.aggregate_id)
        if isinstance(event, ConnectionDeleted):
            return self._destroy(decoded, bound)
        if isinstance(event, PostMetricsRecorded):
            reading = self.reads.get(key)
            if reading is not None and (envelope.sequence or 0) > reading.sequence:
                self.reads.put(key, on_recorded(reading, envelope, event, self.schedule))
            return None
        tracked = self.fold(key, decoded, bound)
        if tracked is None:
            return None
        if isinstance(event, PublishStarted):
            # Beside the loop: one slow platform doesn't hold up the other items.
            return _guarded(self.runner.run(key, envelope, event, tracked, bound), bound)
        if isinstance(event, ItemPublished):
            adapter = self.adapters.get(tracked.platform)
            readable = adapter is not None and adapter.reads_metrics
            # A platform without reads has no entry to look up (a store read per post).
            if not readable or self.reads.get(key) is not None:
                return None
            entry = on_published(tracked, envelope, event, readable, self.schedule, self.clock())
            if entry is not None:
                self.reads.put(key, entry)
                bound.info("post_reads_scheduled", platform=tracked.platform)
        return None

    async def _destroy(self, decoded: Decoded[Message], bound: Any) -> None:
        destroyed = await self.connections.destroy(decoded.envelope.aggregate_id)
        bound.info("connection_key_destroyed", destroyed=destroyed)

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


async def _guarded(attempt: Work, bound: Any) -> None:
    """Runs an attempt. An outage is raised, which stops the process: its event stays
    uncommitted and, with its calling mark, is reconciled after the restart before
    anything is sent again. A bug of ours was reported as the attempt's failure by
    the runner already; one that breaks even that report is logged and counted, its
    event passed, and the item stays ``publishing`` (see the runbook)."""
    try:
        await attempt
        metrics.AGENT_EVENTS.labels(PublishHandler.name, "attempt").inc()
    except OUTAGES:
        bound.exception("publish_attempt_outage")
        raise
    except Exception:
        bound.exception("publish_attempt_crashed")
        metrics.AGENT_EVENTS.labels(PublishHandler.name, "crashed").inc()
