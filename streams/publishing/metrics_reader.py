"""The reader: a timer that reads back due posts' figures and records them through the decider.

Its state is the ``publisher_reads`` table (streams/publishing/metrics_tracking.py):
which posts, which round, when last read. Round n of an item is sent as
``RecordPostMetrics(round=n)`` under ``derived_id(item, "post-metrics:n")``, so the
decider records each round once, whatever repeats it (a lost ack, a restart). What
is only in memory is what a restart may forget at the price of one extra request:
the rounds on their way to the log, and the reads put off after a 429, a quota
answer or a failure (the adapters' own bucket memory holds the platform's resets).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import structlog

from schemas.catalog import Topics
from schemas.codec import encode, wrap
from schemas.ids import derived_id
from schemas.publishing import RecordPostMetrics
from streams import metrics
from streams.publishing.adapters.base import Adapter, Failed, Metrics, NotAvailable, PostRef
from streams.publishing.connections import Connections, Unusable
from streams.publishing.metrics_schedule import ReadSchedule
from streams.publishing.metrics_tracking import Reading, Reads
from streams.publishing.scheduler import PUBLISHER_ACTOR, Produce
from streams.runtime.sending import Outgoing

# A round sent this long ago and still not on the table is sent again (same id).
RESEND_SECONDS = 30.0
COUNTER = "metrics-reader"

log = structlog.get_logger("streams.publishing.metrics")


def round_command_id(item_id: uuid.UUID, round_: int) -> uuid.UUID:
    return derived_id(item_id, f"post-metrics:{round_}")


def round_command(result: Metrics | NotAvailable, round_: int, now: datetime) -> RecordPostMetrics:
    if isinstance(result, NotAvailable):
        return RecordPostMetrics(round=round_, read_at=now, gone=True)
    return RecordPostMetrics(
        round=round_,
        read_at=now,
        views=result.views,
        likes=result.likes,
        comments=result.comments,
        shares=result.shares,
    )


class MetricsReader:
    def __init__(
        self,
        produce: Produce,
        topics: Topics,
        reads: Reads,
        adapters: Mapping[str, Adapter],
        connections: Connections,
        schedule: ReadSchedule,
        clock: Callable[[], datetime],
        concurrency: int,
    ) -> None:
        self.produce = produce
        self.topics = topics
        self.reads = reads
        self.adapters = adapters
        self.connections = connections
        self.schedule = schedule
        self.clock = clock
        self.concurrency = concurrency
        self.sent: dict[str, tuple[int, float]] = {}  # item -> (round sent, monotonic time)
        self.deferred: dict[str, datetime] = {}  # item -> not before
        self.running: dict[str, asyncio.Task[None]] = {}

    def due(self, now: datetime) -> list[tuple[str, Reading]]:
        """Entries whose next read is due, not running, put off, or on their way."""
        entries = self.reads.items()
        live = {key for key, _ in entries}
        for gone in [k for k in self.sent if k not in live]:
            del self.sent[gone]
        for gone in [k for k in self.deferred if k not in live]:
            del self.deferred[gone]
        mono = time.monotonic()
        found = []
        for key, reading in entries:
            at = self.schedule.next_read_at(reading.published_at, reading.read_at)
            if at is None or at > now or key in self.running:
                continue
            if self.deferred.get(key, at) > now:
                continue
            sent = self.sent.get(key)
            if sent is not None:
                if sent[0] <= reading.round:
                    del self.sent[key]  # on the table now
                elif mono - sent[1] < RESEND_SECONDS:
                    continue
            found.append((key, reading))
        found.sort(key=lambda kv: kv[1].read_at or kv[1].published_at)  # the longest waiting first
        return found

    async def tick(self) -> None:
        room = self.concurrency - len(self.running)
        for key, reading in self.due(self.clock())[: max(room, 0)]:
            task = asyncio.create_task(self._guarded(key, reading))
            self.running[key] = task
            task.add_done_callback(lambda _, key=key: self.running.pop(key, None))  # type: ignore[misc]

    async def stop(self) -> None:
        for task in list(self.running.values()):
            task.cancel()
        await asyncio.gather(*self.running.values(), return_exceptions=True)

    async def _guarded(self, key: str, reading: Reading) -> None:
        bound = log.bind(item_id=key, org_id=reading.org_id, platform=reading.platform)
        try:
            await self.read(key, reading, bound)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug or an outage: the next due tick tries again, later
            bound.exception("post_read_crashed")
            self.deferred[key] = self.clock() + self.schedule.interval(
                reading.published_at, self.clock()
            )
            metrics.AGENT_EVENTS.labels(COUNTER, "crashed").inc()

    async def read(self, key: str, reading: Reading, bound: Any) -> None:
        now = self.clock()
        adapter = self.adapters.get(reading.platform)
        if adapter is None or not adapter.reads_metrics:
            return
        opened = await self.connections.open(
            reading.connection_id, reading.org_id, reading.platform
        )
        if isinstance(opened, Unusable):
            # A deleted connection can't be read through; ask again at the next round.
            self.deferred[key] = now + self.schedule.interval(reading.published_at, now)
            bound.info("post_read_no_connection")
            metrics.AGENT_EVENTS.labels(COUNTER, "no-connection").inc()
            return
        post = PostRef(key, reading.post_id, reading.url)
        result = await adapter.metrics(post, opened.credentials)
        now = self.clock()
        if isinstance(result, Failed):
            # 429 and quota: the platform's reset; anything else: the next round.
            later = now + self.schedule.interval(reading.published_at, now)
            self.deferred[key] = result.retry_at or later
            bound.info(
                "post_read_deferred",
                error_class=result.error_class.value,
                status=result.status,
                until=self.deferred[key].isoformat(),
            )
            metrics.AGENT_EVENTS.labels(COUNTER, "deferred").inc()
            return
        if isinstance(result, NotAvailable) and not result.gone:
            return
        await self.record(key, reading, round_command(result, reading.round + 1, now), bound)

    async def record(
        self, key: str, reading: Reading, command: RecordPostMetrics, bound: Any
    ) -> None:
        item_id = uuid.UUID(key)
        command_id = round_command_id(item_id, command.round)
        envelope = wrap(
            command,
            id=command_id,
            org_id=reading.org_id,
            aggregate_id=item_id,
            occurred_at=command.read_at,
            command_id=command_id,
            correlation_id=reading.correlation_id,
            causation_id=command_id,
            actor=PUBLISHER_ACTOR,
        )
        outgoing = Outgoing(self.topics.commands, key.encode(), encode(envelope))
        await self.produce([outgoing], bound)
        self.sent[key] = (command.round, time.monotonic())
        self.deferred.pop(key, None)
        result = "gone" if command.gone else "read"
        metrics.AGENT_EVENTS.labels(COUNTER, result).inc()
        bound.info("post_read_recorded", round=command.round, gone=command.gone)
