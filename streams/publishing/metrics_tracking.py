"""The posts being read back: a Faust table derived from the log, and the handler feeding it.

``publisher_reads`` is keyed by item id like the events (co-partitioned), and holds
only posts of platforms with a read API that are still inside the read window: the
reader's timer scans it, not every post ever published. ``ItemPublished`` adds an
entry (from the item the publisher already folds), ``PostMetricsRecorded`` moves it
to its next round, and removes it when the post is gone or its last round is read.
Written only inside the events agent's stream; restored from its changelog.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

import faust
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.base import Message
from schemas.catalog import Topics
from schemas.codec import Decoded
from schemas.envelope import Envelope
from schemas.publishing import ItemPublished, PostMetricsRecorded
from streams.publishing.adapters.base import Adapter
from streams.publishing.attempt import AttemptRunner
from streams.publishing.connections import Connections
from streams.publishing.handler import PublishHandler
from streams.publishing.metrics_schedule import ReadSchedule
from streams.publishing.tracking import Tracked, Tracker


class Reading(BaseModel):
    """What the reader needs to read one post, and how far its rounds got."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    org_id: str
    correlation_id: uuid.UUID
    platform: str
    connection_id: uuid.UUID
    post_id: str
    url: str | None = None
    published_at: AwareDatetime
    round: int = Field(default=0, ge=0)  # the last round recorded on the log
    read_at: AwareDatetime | None = None  # ...and when it was read
    sequence: int = Field(ge=0)  # the last event folded in (events repeat on redelivery)


def on_published(
    tracked: Tracked,
    envelope: Envelope,
    event: ItemPublished,
    readable: bool,
    schedule: ReadSchedule,
    now: datetime,
) -> Reading | None:
    """The entry a publication starts, or None: no read API, no connection, or a post
    already past the window (a publisher replaying old history reads nothing)."""
    connection_id = tracked.state.connection_id
    if not readable or connection_id is None:
        return None
    published_at = envelope.occurred_at
    if not schedule.in_window(published_at, now):
        return None
    if schedule.next_read_at(published_at, None) is None:
        return None
    return Reading(
        org_id=envelope.org_id,
        correlation_id=envelope.correlation_id,
        platform=tracked.platform,
        connection_id=connection_id,
        post_id=event.post_id,
        url=event.url,
        published_at=published_at,
        sequence=envelope.sequence or 0,
    )


def on_recorded(
    reading: Reading, envelope: Envelope, event: PostMetricsRecorded, schedule: ReadSchedule
) -> Reading | None:
    """The entry after a recorded round, or None: the post is gone, or that was its last."""
    if event.gone:
        return None
    if event.round <= reading.round:
        return reading
    moved = reading.model_copy(
        update={"round": event.round, "read_at": event.read_at, "sequence": envelope.sequence or 0}
    )
    return moved if schedule.next_read_at(moved.published_at, moved.read_at) else None


class Reads:
    """Typed access to the table (values: JSON bytes)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, item_id: str) -> Reading | None:
        value = self.table.get(item_id)
        return None if value is None else Reading.model_validate_json(value)

    def put(self, item_id: str, reading: Reading | None) -> None:
        """Only inside the events agent's stream (faust writes that partition's changelog)."""
        if reading is not None:
            self.table[item_id] = reading.model_dump_json().encode()
        elif item_id in self.table:
            del self.table[item_id]

    def items(self) -> list[tuple[str, Reading]]:
        """Every entry of the partitions this process owns (faust iterates actives only)."""
        return [(k, Reading.model_validate_json(v)) for k, v in self.table.items()]


class ReadingPublishHandler(PublishHandler):
    """The publisher's handler, plus the read-back entries of its published items.

    A subclass rather than a second handler: the events agent routes each event type
    to one handler, and ``ItemPublished`` is already the publisher's.
    """

    handles: ClassVar[frozenset[str]] = PublishHandler.handles | {PostMetricsRecorded.TYPE}

    def __init__(
        self,
        app: faust.App,
        topics: Topics,
        tracker: Tracker,
        connections: Connections,
        runner: AttemptRunner,
        *,
        reads: Reads,
        adapters: Mapping[str, Adapter],
        schedule: ReadSchedule,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(app, topics, tracker, connections, runner)
        self.reads = reads
        # Filled when the publisher's resources open, before the agent runs.
        self.adapters = adapters
        self.schedule = schedule
        self.clock = clock

    async def handle(self, decoded: Decoded[Message], bound: Any) -> None:
        envelope, event = decoded.envelope, decoded.message
        key = str(envelope.aggregate_id)
        if isinstance(event, PostMetricsRecorded):
            reading = self.reads.get(key)
            if reading is not None and (envelope.sequence or 0) > reading.sequence:
                self.reads.put(key, on_recorded(reading, envelope, event, self.schedule))
            return
        await super().handle(decoded, bound)
        if isinstance(event, ItemPublished) and self.reads.get(key) is None:
            tracked = self.tracker.get(key)
            if tracked is None:
                return
            adapter = self.adapters.get(tracked.platform)
            readable = adapter is not None and adapter.reads_metrics
            entry = on_published(tracked, envelope, event, readable, self.schedule, self.clock())
            if entry is not None:
                self.reads.put(key, entry)
                bound.info("post_reads_scheduled", platform=tracked.platform)
