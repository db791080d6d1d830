"""The scheduler: a timer that claims due items' next attempt through the decider.

Its state is the ``publisher_due`` table (streams/publishing/tracking.py), so it
survives restarts and follows partitions through rebalances. Firing twice is
harmless by construction: ``StartPublish`` for attempt n has one derived command id,
so the decider applies it once and answers any repeat as the same decision. The
in-memory ``sent`` map only saves the repeats; after ``RESEND_SECONDS`` without the
attempt starting (a lost send, a rebalance), the claim is sent again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import structlog

from schemas.catalog import Topics
from schemas.codec import encode, wrap
from schemas.envelope import Actor
from schemas.publishing import StartPublish
from streams import metrics
from streams.publishing import ids
from streams.publishing.adapters.registry import utc_now
from streams.publishing.tracking import Due, Tracker
from streams.runtime.sending import Outgoing

PUBLISHER_ACTOR = Actor(sub="wavestack-publisher", kind="service")
RESEND_SECONDS = 10.0
# Woken this much after an entry's time, so the clock has passed it on waking.
WAKE_MARGIN_SECONDS = 0.002
# Never woken sooner than this after a tick: items due at many different moments
# make a few dozen ticks a second at most, each claiming what fell due meanwhile.
MIN_WAKE_SECONDS = 0.02

# Produces a batch and waits for every ack (streams/runtime/producing.py).
Produce = Callable[[list[Outgoing], Any], Awaitable[Any]]

log = structlog.get_logger("streams.publishing.scheduler")


class Scheduler:
    def __init__(
        self,
        produce: Produce,
        topics: Topics,
        tracker: Tracker,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.produce = produce
        self.topics = topics
        self.tracker = tracker
        self.clock = clock
        self.sent: dict[tuple[str, int], float] = {}

    def claims(self, now: datetime) -> list[Outgoing]:
        """StartPublish for every due item not claimed in the last RESEND_SECONDS."""
        entries = self.tracker.due_items(now)
        live = {(key, entry.attempt) for key, entry in entries}
        # Forget claims whose attempt started (or whose item is no longer due).
        for claim in [c for c in self.sent if c not in live]:
            del self.sent[claim]
        mono = time.monotonic()
        batch = []
        for key, entry in entries:
            claim = (key, entry.attempt)
            if mono - self.sent.get(claim, -RESEND_SECONDS) < RESEND_SECONDS:
                continue
            self.sent[claim] = mono
            batch.append(self._claim(key, entry, now))
        return batch

    def _claim(self, key: str, entry: Due, now: datetime) -> Outgoing:
        item_id = uuid.UUID(key)
        tracked = self.tracker.get(key)
        platform = tracked.platform if tracked else "webhook"
        content = {}
        if tracked is not None:
            content = {
                "connection_id": str(tracked.state.connection_id),
                "title": tracked.title,
                "description": tracked.description,
                "target": tracked.target,
                "asset_id": str(tracked.asset_id) if tracked.asset_id else None,
            }
        command = StartPublish(
            attempt=entry.attempt,
            attempt_id=ids.attempt_id(item_id, entry.attempt),
            adapter=platform,
            fingerprint=ids.request_fingerprint(platform, content),
        )
        command_id = ids.command_id(item_id, entry.attempt, "start")
        envelope = wrap(
            command,
            id=command_id,
            org_id=entry.org_id,
            aggregate_id=item_id,
            occurred_at=now,
            command_id=command_id,
            correlation_id=entry.correlation_id,
            causation_id=command_id,
            actor=PUBLISHER_ACTOR,
        )
        return Outgoing(self.topics.commands, key.encode(), encode(envelope))

    def wait(self, tick_seconds: float) -> float:
        """Seconds until the next tick: ``tick_seconds``, or less when an entry falls
        due sooner. Items are claimed at their time, not up to a tick later (with a
        thousand items due at one second, that tick was on the path of every post).
        Entries due already and claimed are not waited for (their start is on its way)."""
        now = self.clock()
        at = self.tracker.next_due(now)
        if at is None:
            return tick_seconds
        until = (at - now).total_seconds() + WAKE_MARGIN_SECONDS
        return min(tick_seconds, max(MIN_WAKE_SECONDS, until))

    async def tick(self) -> None:
        batch = self.claims(self.clock())
        if not batch:
            return
        bound = log.bind(count=len(batch))
        await self.produce(batch, bound)
        metrics.AGENT_EVENTS.labels("scheduler", "claimed").inc(len(batch))
        bound.info("publish_claims_sent")
