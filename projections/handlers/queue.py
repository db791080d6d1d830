"""queue_items: one row per queue item, guarded by the sequence of its last event.

The status follows the decider's fold (streams/domain/queue.py) event for event;
the publishing transitions are in handlers/publish.py.
"""

from __future__ import annotations

from typing import Any

from projections.handlers.guard import applies, changed
from projections.tables import QUEUE_ITEMS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.envelope import Envelope
from schemas.events import ItemCancelled, ItemEnqueued, ItemRescheduled

# Where the scheduler may start an attempt (streams.domain.publish.STARTABLE).
STARTABLE = frozenset({"scheduled", "retrying"})


def moved(row: Row, env: Envelope, **values: Any) -> Row:
    """``changed``, with ``due_at`` recomputed as the decider's ``due`` (its retry or
    quota time, else schedule_at) while the item may be started, NULL otherwise."""
    new = changed(row, env, **values)
    due = new["next_attempt_at"] or new["schedule_at"]
    new["due_at"] = due if new["status"] in STARTABLE else None
    return new


def item_enqueued(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    if row is not None:
        return row  # created once: a re-emitted creation changes nothing
    env, item = decoded.envelope, decoded.as_(ItemEnqueued)
    return new_row(
        QUEUE_ITEMS,
        id=env.aggregate_id,
        org_id=env.org_id,
        project_id=item.project_id,
        asset_id=item.asset_id,
        platform=item.platform,
        title=item.title,
        description=item.description,
        status="scheduled",
        schedule_at=item.schedule_at,
        timezone=item.timezone,
        target=item.target,
        attempts=0,
        created_at=env.occurred_at,
        updated_at=env.occurred_at,
        version=env.sequence,
        connection_id=item.connection_id,
        schedule_local=item.schedule_local,
        connection_broken=False,
        due_at=item.schedule_at,
    )


def item_cancelled(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    cancel = decoded.as_(ItemCancelled)
    if row is None or not applies(row, decoded.envelope):
        return row
    return moved(row, decoded.envelope, status="cancelled", reason=cancel.reason)


def item_rescheduled(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    """The status stays (a retrying item retries at the new time); a pending retry or
    quota time is dropped, as in the decider. ``reason`` is set when the system moved
    the item (a quota's reset) and cleared when the client did."""
    change = decoded.as_(ItemRescheduled)
    if row is None or not applies(row, decoded.envelope):
        return row
    return moved(
        row,
        decoded.envelope,
        schedule_at=change.schedule_at,
        next_attempt_at=None,
        reason=change.reason,
    )
