"""The posts being read back: a table derived from the log, and the rules that move its entries.

``publisher_reads`` is keyed by item id like the events (co-partitioned), and holds
only posts of platforms with a read API that are still inside the read window: the
reader's timer scans it, not every post ever published. ``ItemPublished`` adds an
entry (from the item the publisher already folds), ``PostMetricsRecorded`` moves it
to its next round, and removes it when the post is gone or its last round is read.
Written by the events loop (streams/publishing/handler.py); restored from its changelog.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.envelope import Envelope
from schemas.publishing import ItemPublished, PostMetricsRecorded
from streams.publishing.metrics_schedule import ReadSchedule
from streams.publishing.tracking import Tracked


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
        """In memory at once; on the changelog at the next flush (streams/publishing/state.py)."""
        if reading is not None:
            self.table[item_id] = reading.model_dump_json().encode()
        elif item_id in self.table:
            del self.table[item_id]

    def items(self) -> list[tuple[str, Reading]]:
        """Every entry of the partitions this process owns."""
        return [(k, Reading.model_validate_json(v)) for k, v in self.table.items()]
