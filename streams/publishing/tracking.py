"""The publisher's memory, derived from the log: one record per queue item, and the due index.

The due table is mirrored in memory, sorted by time (``DueIndex``): every ``put``
updates both, and after a rebalance (whose recovery writes the tables directly)
``reindex`` reads the table once.

Two tables keyed by item id, like the events, so both are co-partitioned with the
events topic: ``publisher_items`` (the folded item plus what this publisher did
about its attempts) and ``publisher_due`` (only items the scheduler may start: the
timer scans this one, not every item ever queued). Written by the events loop and
the attempts it runs; restored from their changelogs after a restart
(streams/publishing/state.py).
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

# Parsed records kept at most (a few attempts' worth of items in flight, many times over).
PARSED_MAX = 4096


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
        # The records last written or read, by the very bytes they came from: an attempt
        # and the loop read an item several times while its value sits unchanged in
        # memory, and parsing it each time was a tenth of the publisher's time.
        self._parsed: dict[str, tuple[bytes, Tracked]] = {}

    def get(self, item_id: str) -> Tracked | None:
        value = self.items.get(item_id)
        if value is None:
            return None
        known = self._parsed.get(item_id)
        if known is not None and known[0] is value:
            return known[1]
        tracked = Tracked.model_validate_json(value)
        self._remember(item_id, value, tracked)
        return tracked

    def _remember(self, item_id: str, value: bytes, tracked: Tracked) -> None:
        if len(self._parsed) >= PARSED_MAX:
            self._parsed.clear()  # rare and cheap: the next reads parse again
        self._parsed[item_id] = (value, tracked)

    def put(self, item_id: str, tracked: Tracked) -> None:
        """In memory at once; on the changelog at the next flush (streams/publishing/state.py)."""
        value = tracked.model_dump_json().encode()
        self.items[item_id] = value
        self._remember(item_id, value, tracked)
        entry = due_entry(tracked)
        self.index.set(item_id, entry)
        if entry is None:
            if item_id in self.due:
                del self.due[item_id]
        else:
            self.due[item_id] = entry.model_dump_json().encode()

    def reindex(self) -> int:
        """Reads the index again from the table: after a rebalance, whose recovery wrote
        the tables without ``put`` (the table iterates the partitions this process owns).

        An entry its item says is not due is left out: the Faust app deleted entries
        with tombstones, which a restore passes over (streams/publishing/state.py).
        """
        entries = []
        for key, value in self.due.items():
            tracked = self.get(key)
            if tracked is None or due_entry(tracked) is not None:
                entries.append((key, Due.model_validate_json(value)))
        self.index.replace(entries)
        return len(self.index)

    def due_items(self, now: datetime) -> list[tuple[str, Due]]:
        """The entries due at ``now``, earliest first."""
        return self.index.due(now)

    def next_due(self, now: datetime) -> datetime | None:
        """When the next entry not yet due at ``now`` falls due, if any."""
        return self.index.next_after(now)


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

    def next_after(self, now: datetime) -> datetime | None:
        """The earliest time of an entry not yet due at ``now``, if any."""
        at = bisect.bisect_right(self._by_time, now, key=lambda pair: pair[0])
        return self._by_time[at][0] if at < len(self._by_time) else None

    def due(self, now: datetime) -> list[tuple[str, Due]]:
        found = []
        for at, key in self._by_time:
            if at > now:
                break
            found.append((key, self._entries[key]))
        return found
