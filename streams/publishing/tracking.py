"""The publisher's memory, derived from the log: one record per queue item, and the due index.

The due table is mirrored in memory, sorted by time (``DueIndex``): every ``put``
updates both, and after a rebalance (whose recovery writes the tables directly)
``reindex`` reads the table once.

Two Faust tables keyed by item id, like the events, so both are co-partitioned with
the events topic: ``publisher_items`` (the folded item plus what this publisher did
about its attempts) and ``publisher_due`` (only items the scheduler may start: the
timer scans this one, not every item ever queued). Written only by the events
agent, inside its stream; restored from their changelogs after a restart.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.commands import Platform
from schemas.envelope import Envelope
from schemas.events import ItemEnqueued
from streams.domain.publish import STARTABLE
from streams.domain.queue import QueueItemState


class Tracked(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    org_id: str
    correlation_id: uuid.UUID
    sequence: int = Field(ge=0)  # the last event folded in (events repeat on redelivery)
    state: QueueItemState
    platform: Platform
    title: str
    description: str
    target: dict[str, Any]
    asset_id: uuid.UUID | None = None
    # The attempt id whose platform call began and whose result is not reported yet:
    # found set after a restart, it means "the call may have gone out: reconcile".
    calling: str | None = None
    # The last attempt whose result this publisher reported (a repeated start is skipped).
    reported: int = Field(default=0, ge=0)

    @classmethod
    def enqueued(cls, envelope: Envelope, event: ItemEnqueued, state: QueueItemState) -> Tracked:
        return cls(
            org_id=envelope.org_id,
            correlation_id=envelope.correlation_id,
            sequence=envelope.sequence or 0,
            state=state,
            platform=event.platform,
            title=event.title,
            description=event.description,
            target=event.target,
            asset_id=event.asset_id,
        )


class Due(BaseModel):
    """What the scheduler needs to start an item's next attempt."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: AwareDatetime
    attempt: int = Field(ge=1)
    org_id: str
    correlation_id: uuid.UUID


def due_entry(tracked: Tracked) -> Due | None:
    """The item's due-index entry, or None when the scheduler has nothing to start."""
    state = tracked.state
    if state.status not in STARTABLE or state.connection_id is None:
        # Items without a connection (queued before connections existed) can't be
        # published; they stay scheduled and show up as overdue.
        return None
    return Due(
        at=state.due,
        attempt=state.attempt + 1,
        org_id=tracked.org_id,
        correlation_id=tracked.correlation_id,
    )


class Tracker:
    """Typed access to both tables (values: JSON bytes)."""

    def __init__(self, items: Any, due: Any) -> None:
        self.items = items
        self.due = due
        # The due table in memory, ordered by time: the scheduler's timer looks only at
        # what is due instead of reading every entry of the table on every tick.
        self.index = DueIndex()

    def get(self, item_id: str) -> Tracked | None:
        value = self.items.get(item_id)
        return None if value is None else Tracked.model_validate_json(value)

    def put(self, item_id: str, tracked: Tracked) -> None:
        """Only inside the events agent's stream (faust writes that partition's changelog)."""
        self.items[item_id] = tracked.model_dump_json().encode()
        entry = due_entry(tracked)
        self.index.set(item_id, entry)
        if entry is None:
            if item_id in self.due:
                del self.due[item_id]
        else:
            self.due[item_id] = entry.model_dump_json().encode()

    def reindex(self) -> int:
        """Reads the index again from the table: after a rebalance, whose recovery wrote
        the tables without ``put``. Faust iterates the partitions this process owns."""
        self.index.replace((k, Due.model_validate_json(v)) for k, v in self.due.items())
        return len(self.index)

    def due_items(self, now: datetime) -> list[tuple[str, Due]]:
        """The entries due at ``now``, earliest first."""
        return self.index.due(now)


class DueIndex:
    """Item id -> its due entry, and (time, id) pairs in a sorted list (bisect: an
    insert moves memory, which stays cheap for the items one process holds)."""

    def __init__(self) -> None:
        self._entries: dict[str, Due] = {}
        self._by_time: list[tuple[datetime, str]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def set(self, key: str, entry: Due | None) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            at = bisect.bisect_left(self._by_time, (old.at, key))
            if at < len(self._by_time) and self._by_time[at] == (old.at, key):
                del self._by_time[at]
        if entry is not None:
            self._entries[key] = entry
            bisect.insort(self._by_time, (entry.at, key))

    def replace(self, entries: Iterable[tuple[str, Due]]) -> None:
        self._entries = dict(entries)
        self._by_time = sorted((e.at, k) for k, e in self._entries.items())

    def due(self, now: datetime) -> list[tuple[str, Due]]:
        found = []
        for at, key in self._by_time:
            if at > now:
                break
            found.append((key, self._entries[key]))
        return found
