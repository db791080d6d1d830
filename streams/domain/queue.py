"""The queue item: scheduled → publishing → published, or retrying → failed, or cancelled.

Publishing's own rules (attempts, results, reconciliation) are in
``streams.domain.publish``; this module holds the item's state, the client's
commands, and the fold of every queue event.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.base import Command, Event
from schemas.commands import CancelItem, EnqueueItem, Platform, RescheduleItem
from schemas.events import ItemCancelled, ItemEnqueued, ItemRescheduled
from schemas.publishing import (
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
from streams.domain import publish
from streams.domain.common import (
    CONFLICT,
    NOT_FOUND,
    UNPROCESSABLE,
    Decision,
    applied,
    duplicate,
    rejected,
)

QueueStatus = Literal[
    "scheduled", "publishing", "retrying", "published", "failed", "cancelled", "unconfirmed"
]

# Cancelling and rescheduling only make sense before the publisher took the item.
CHANGEABLE: frozenset[QueueStatus] = frozenset({"scheduled", "retrying"})
# Where the scheduler may start an attempt.


class QueueItemState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    status: QueueStatus
    schedule_at: AwareDatetime
    # Defaults: records written before publishing existed read as "nothing tried yet".
    platform: Platform | None = None
    connection_id: uuid.UUID | None = None
    # When the next attempt is due (a retry's time, a quota's reset); None: schedule_at.
    due_at: AwareDatetime | None = None
    # The last attempt started (numbers never repeat, across retries of a failed item)...
    attempt: int = Field(default=0, ge=0)
    # ...and the failed attempts of the current series, which the retry limit counts.
    failures: int = Field(default=0, ge=0)
    # An attempt id whose outcome is unknown: reconciled before anything is sent again.
    reconcile_attempt_id: str | None = None
    # What the adapter checkpointed (a resumable upload session), kept across attempts.
    session: dict[str, Any] | None = None
    # Reading back a published post: the last round recorded, and whether the
    # platform said the post is gone (then no round is accepted any more).
    metrics_round: int = Field(default=0, ge=0)
    post_gone: bool = False

    @property
    def due(self) -> datetime:
        return self.due_at or self.schedule_at


def decide(command: Command, state: QueueItemState | None, now: datetime) -> Decision:
    """``now`` is the command's ``occurred_at``, so a re-decided command decides the same."""
    match command:
        case EnqueueItem():
            return _enqueue(command, state, now)
        case CancelItem():
            return _cancel(command, state)
        case RescheduleItem():
            return _reschedule(command, state)
    if publish.handles(command):
        if state is None:
            return rejected(NOT_FOUND, "queue item not found")
        return publish.decide(command, state, now)
    raise TypeError(f"not a queue item command: {command.TYPE}")


def evolve(state: QueueItemState | None, event: Event) -> QueueItemState:
    if isinstance(event, ItemEnqueued):
        return QueueItemState(
            status="scheduled",
            schedule_at=event.schedule_at,
            platform=event.platform,
            connection_id=event.connection_id,
        )
    if state is None:
        raise ValueError(f"{event.TYPE} cannot apply to a queue item that does not exist")
    return state.model_copy(update=_changes(state, event))


def _changes(state: QueueItemState, event: Event) -> dict[str, Any]:
    match event:
        case ItemCancelled():
            return {"status": "cancelled"}
        case ItemRescheduled():
            # The status stays: a retrying item keeps its attempt count and retries then.
            return {"schedule_at": event.schedule_at, "due_at": None}
        case PublishStarted():
            return {"status": "publishing", "attempt": event.attempt}
        case PublishCheckpointed():
            return {"session": event.session}
        case ItemPublished():
            return {"status": "published", "reconcile_attempt_id": None}
        case PublishAttemptFailed():
            return _failed_attempt(state, event)
        case ItemFailed():
            return {"status": "failed", "due_at": None}
        case PublishReconciled():
            if event.finding == "not-published" and state.reconcile_attempt_id == event.attempt_id:
                return {"reconcile_attempt_id": None}
            return {}
        case ItemUnconfirmed():
            return {"status": "unconfirmed", "due_at": None}
        case ItemRetried():
            return {
                "status": "scheduled",
                "due_at": event.schedule_at,
                "failures": 0,
                "reconcile_attempt_id": None,
            }
        case PostMetricsRecorded():
            return {"metrics_round": event.round, "post_gone": event.gone}
    raise ValueError(f"{event.TYPE} cannot apply to queue item state {state!r}")


def _failed_attempt(state: QueueItemState, event: PublishAttemptFailed) -> dict[str, Any]:
    if event.error_class == "unknown-outcome":
        doubt: str | None = str(event.attempt_id)
    elif str(event.attempt_id) == str(state.reconcile_attempt_id):
        # A definite answer about the doubtful attempt itself settles the doubt.
        doubt = None
    else:
        # An answer about another attempt (a stale start reported unsent) says nothing
        # about the doubtful one: the next attempt must still reconcile it first.
        doubt = state.reconcile_attempt_id
    changes: dict[str, Any] = {"due_at": event.next_attempt_at, "reconcile_attempt_id": doubt}
    if event.error_class == "quota":
        # Waiting for a quota's reset is not failing: the series keeps its budget.
        changes["status"] = "scheduled"
    else:
        changes["status"] = "retrying"
        changes["failures"] = state.failures + 1
    return changes


def _enqueue(command: EnqueueItem, state: QueueItemState | None, now: datetime) -> Decision:
    if state is not None:
        return rejected(CONFLICT, "a queue item with this id already exists")
    if command.connection_id is not None:
        if command.connection_platform is None:
            return rejected(NOT_FOUND, "connection_id: no such connection in this organization")
        if command.connection_platform != command.platform:
            return rejected(
                UNPROCESSABLE,
                f"connection_id: the connection is for {command.connection_platform}, "
                f"the item for {command.platform}",
            )
    return applied(
        ItemEnqueued(
            platform=command.platform,
            title=command.title,
            description=command.description,
            project_id=command.project_id,
            asset_id=command.asset_id,
            schedule_at=(command.schedule_at or now).astimezone(UTC),
            timezone=command.timezone,
            target=command.target,
            connection_id=command.connection_id,
            schedule_local=command.schedule_local,
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
    if state.schedule_at == command.schedule_at and state.due_at is None:
        return duplicate("the queue item is already scheduled at that time")
    return applied(ItemRescheduled(schedule_at=command.schedule_at))
