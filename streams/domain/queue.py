"""The queue item: scheduled → publishing → published, or retrying → failed, or cancelled."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from schemas.base import Command, Event
from schemas.commands import CancelItem, EnqueueItem, RescheduleItem
from schemas.events import ItemCancelled, ItemEnqueued, ItemRescheduled
from streams.domain.common import (
    CONFLICT,
    NOT_FOUND,
    Decision,
    applied,
    duplicate,
    rejected,
)

QueueStatus = Literal["scheduled", "publishing", "retrying", "published", "failed", "cancelled"]

# Cancelling and rescheduling only make sense before the publishing agent took the item.
CHANGEABLE: frozenset[QueueStatus] = frozenset({"scheduled", "retrying"})


class QueueItemState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    status: QueueStatus
    schedule_at: AwareDatetime


def decide(command: Command, state: QueueItemState | None, now: datetime) -> Decision:
    """``now`` is the command's ``occurred_at``, so a re-decided command decides the same."""
    match command:
        case EnqueueItem():
            return _enqueue(command, state, now)
        case CancelItem():
            return _cancel(command, state)
        case RescheduleItem():
            return _reschedule(command, state)
    raise TypeError(f"not a queue item command: {command.TYPE}")


def evolve(state: QueueItemState | None, event: Event) -> QueueItemState:
    match event:
        case ItemEnqueued():
            return QueueItemState(status="scheduled", schedule_at=event.schedule_at)
        case ItemCancelled() if state is not None:
            return state.model_copy(update={"status": "cancelled"})
        case ItemRescheduled() if state is not None:
            # The status stays: a retrying item keeps its attempt count and retries then.
            return state.model_copy(update={"schedule_at": event.schedule_at})
    raise ValueError(f"{event.TYPE} cannot apply to queue item state {state!r}")


def _enqueue(command: EnqueueItem, state: QueueItemState | None, now: datetime) -> Decision:
    if state is not None:
        return rejected(CONFLICT, "a queue item with this id already exists")
    return applied(
        ItemEnqueued(
            platform=command.platform,
            title=command.title,
            description=command.description,
            project_id=command.project_id,
            asset_id=command.asset_id,
            schedule_at=command.schedule_at or now,
            timezone=command.timezone,
            target=command.target,
        )
    )


def _cancel(command: CancelItem, state: QueueItemState | None) -> Decision:
    if state is None:
        return rejected(NOT_FOUND, "queue item not found")
    if state.status == "cancelled":
        return duplicate("the queue item is already cancelled")
    if state.status not in CHANGEABLE:
        return rejected(CONFLICT, f"a {state.status} queue item cannot be cancelled")
    return applied(ItemCancelled(reason=command.reason))


def _reschedule(command: RescheduleItem, state: QueueItemState | None) -> Decision:
    if state is None:
        return rejected(NOT_FOUND, "queue item not found")
    if state.status not in CHANGEABLE:
        return rejected(CONFLICT, f"a {state.status} queue item cannot be rescheduled")
    if state.schedule_at == command.schedule_at:
        return duplicate("the queue item is already scheduled at that time")
    return applied(ItemRescheduled(schedule_at=command.schedule_at))
