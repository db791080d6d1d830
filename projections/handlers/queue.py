"""queue_items: one row per queue item, guarded by the sequence of its last event."""

from __future__ import annotations

from projections.handlers.guard import applies, changed
from projections.tables import QUEUE_ITEMS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.events import ItemCancelled, ItemEnqueued, ItemRescheduled


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
    )


def item_cancelled(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    decoded.as_(ItemCancelled)
    if row is None or not applies(row, decoded.envelope):
        return row
    return changed(row, decoded.envelope, status="cancelled")


def item_rescheduled(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    change = decoded.as_(ItemRescheduled)
    if row is None or not applies(row, decoded.envelope):
        return row
    return changed(row, decoded.envelope, schedule_at=change.schedule_at)
