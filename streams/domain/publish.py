"""The queue item's publishing rules: attempts, their results, and reconciliation.

The decider arbitrates: ``StartPublish(attempt n)`` is applied once per item and
attempt, so however many schedulers fire, one ``PublishStarted`` exists per attempt,
and only the publisher that consumes it calls the platform. Results are accepted
only for the attempt in progress, so a late or repeated report changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from schemas.base import Command
from schemas.events import ItemRescheduled
from schemas.publishing import (
    MAX_REASON_CHARS,
    CompletePublish,
    FailPublishAttempt,
    ItemFailed,
    ItemPublished,
    ItemRetried,
    ItemUnconfirmed,
    MarkPublished,
    PostMetricsRecorded,
    PublishAttemptFailed,
    PublishCheckpointed,
    PublishReconciled,
    PublishStarted,
    RecordPostMetrics,
    RecordPublishCheckpoint,
    RecordReconciliation,
    RetryItem,
    StartPublish,
)
from streams.domain.common import CONFLICT, UNPROCESSABLE, Decision, applied, duplicate, rejected

if TYPE_CHECKING:
    from streams.domain.queue import QueueItemState

COMMANDS = (
    StartPublish,
    RecordPublishCheckpoint,
    CompletePublish,
    FailPublishAttempt,
    MarkPublished,
    RecordReconciliation,
    RetryItem,
    RecordPostMetrics,
)
# A scheduler's clock may run this far ahead of the one that scheduled the item.
EARLY_TOLERANCE = timedelta(seconds=1)
RETRYABLE = frozenset({"failed", "unconfirmed"})
# Where the scheduler may start an attempt (the states a client may still change).
STARTABLE = frozenset({"scheduled", "retrying"})
UNCONFIRMED_REASON = (
    "the platform may or may not have published this item and offers no way to check; "
    "look on the platform, then retry the item or mark it published"
)

LOOKUPS_EXHAUSTED_REASON = (
    "an earlier attempt may have published this item and the platform could not be asked "
    "within the attempt limit; look on the platform, then retry the item if it is not there"
)


def handles(command: Command) -> bool:
    return isinstance(command, COMMANDS)


def decide(command: Command, state: QueueItemState, now: datetime) -> Decision:
    match command:
        case StartPublish():
            return _start(command, state, now)
        case RecordPublishCheckpoint():
            return _checkpoint(command, state)
        case CompletePublish():
            return _complete(command, state)
        case FailPublishAttempt():
            return _fail(command, state)
        case RecordReconciliation():
            return _reconciled(command, state)
        case RetryItem():
            return _retry(command, state, now)
        case MarkPublished():
            return _mark_published(command, state)
        case RecordPostMetrics():
            return _metrics(command, state)
    raise TypeError(f"not a publishing command: {command.TYPE}")


def _start(command: StartPublish, state: QueueItemState, now: datetime) -> Decision:
    if command.attempt <= state.attempt:
        return duplicate(f"attempt {command.attempt} was already started")
    if state.status not in STARTABLE:
        return rejected(CONFLICT, f"a {state.status} queue item cannot start publishing")
    if command.attempt != state.attempt + 1:
        return rejected(CONFLICT, f"attempt {command.attempt} does not follow {state.attempt}")
    if state.due > now + EARLY_TOLERANCE:
        # Rescheduled while the scheduler's claim was on its way.
        return rejected(CONFLICT, f"the queue item is not due until {state.due.isoformat()}")
    if state.connection_id is None:
        return rejected(UNPROCESSABLE, "the queue item has no connection to publish through")
    return applied(
        PublishStarted(
            attempt=command.attempt,
            attempt_id=command.attempt_id,
            adapter=command.adapter,
            fingerprint=command.fingerprint,
            reconcile_attempt_id=state.reconcile_attempt_id,
        )
    )


def _in_progress(attempt: int, state: QueueItemState) -> Decision | None:
    """None when ``attempt`` is the one publishing now, else the answer to its report."""
    if state.status == "publishing" and attempt == state.attempt:
        return None
    if attempt < state.attempt or state.status in ("published", "failed", "unconfirmed"):
        return duplicate(f"attempt {attempt} is no longer in progress")
    return rejected(CONFLICT, f"attempt {attempt} is not in progress")


def _checkpoint(command: RecordPublishCheckpoint, state: QueueItemState) -> Decision:
    refusal = _in_progress(command.attempt, state)
    if refusal is not None:
        return refusal
    if state.session == command.session:
        return duplicate("the checkpoint is already recorded")
    return applied(PublishCheckpointed(attempt=command.attempt, session=command.session))


def _complete(command: CompletePublish, state: QueueItemState) -> Decision:
    if state.status == "published":
        return duplicate("the queue item is already published")
    # An unconfirmed item's earlier attempt may still turn out to have gone out.
    late = state.status == "unconfirmed" and command.attempt <= state.attempt
    if not late:
        refusal = _in_progress(command.attempt, state)
        if refusal is not None:
            return refusal
    published = ItemPublished(attempt=command.attempt, post_id=command.post_id, url=command.url)
    if command.reconciled:
        attempt_id = command.reconciled_attempt_id or state.reconcile_attempt_id or ""
        found = PublishReconciled(
            attempt=command.attempt, attempt_id=attempt_id, finding="published"
        )
        return applied(found, published)
    return applied(published)


def _fail(command: FailPublishAttempt, state: QueueItemState) -> Decision:
    refusal = _in_progress(command.attempt, state)
    if refusal is not None:
        return refusal
    attempt_failed = PublishAttemptFailed(
        attempt=command.attempt,
        attempt_id=command.attempt_id,
        error_class=command.error_class,
        platform_status=command.platform_status,
        summary=command.summary,
        next_attempt_at=command.next_attempt_at,
    )
    if command.next_attempt_at is None and command.error_class == "unknown-outcome":
        # Out of attempts while in doubt: `failed` would invite a retry that re-posts
        # blindly, so an operator looks first.
        reason = f"{LOOKUPS_EXHAUSTED_REASON} (the last: {command.summary})"
        unconfirmed = ItemUnconfirmed(attempt=command.attempt, reason=reason[:MAX_REASON_CHARS])
        return applied(attempt_failed, unconfirmed)
    if command.next_attempt_at is None:
        ended = ItemFailed(
            attempt=command.attempt,
            error_class=command.error_class,
            reason=command.reason or command.summary,
            connection_broken=command.connection_broken,
        )
        return applied(attempt_failed, ended)
    if command.error_class == "quota":
        moved = ItemRescheduled(
            schedule_at=command.next_attempt_at,
            reason=f"the platform's quota is used up ({command.summary}); "
            "rescheduled to its reset, nothing was sent",
        )
        return applied(attempt_failed, moved)
    return applied(attempt_failed)


def _reconciled(command: RecordReconciliation, state: QueueItemState) -> Decision:
    refusal = _in_progress(command.attempt, state)
    if refusal is not None:
        return refusal
    if command.finding == "published":
        return rejected(UNPROCESSABLE, "a found post is reported with CompletePublish")
    found = PublishReconciled(
        attempt=command.attempt,
        attempt_id=command.attempt_id,
        finding=command.finding,
        detail=command.detail,
    )
    if command.finding == "cannot-know":
        return applied(found, ItemUnconfirmed(attempt=command.attempt, reason=UNCONFIRMED_REASON))
    return applied(found)


def _mark_published(command: MarkPublished, state: QueueItemState) -> Decision:
    """An operator's word that an unconfirmed item's post exists: only from
    ``unconfirmed`` (anywhere else the publisher still knows better)."""
    if state.status == "published":
        return duplicate("the queue item is already published")
    if state.status != "unconfirmed":
        return rejected(CONFLICT, f"a {state.status} queue item cannot be marked published")
    return applied(ItemPublished(attempt=state.attempt, post_id=command.post_id, url=command.url))


def _retry(command: RetryItem, state: QueueItemState, now: datetime) -> Decision:
    if state.status not in RETRYABLE:
        return rejected(CONFLICT, f"a {state.status} queue item cannot be retried")
    return applied(ItemRetried(schedule_at=command.schedule_at or now))


def _metrics(command: RecordPostMetrics, state: QueueItemState) -> Decision:
    """A read round of the post: only of a published item, once per round, and none
    after the platform said the post is gone."""
    if state.status != "published":
        return rejected(CONFLICT, f"a {state.status} queue item has no post to read")
    if state.post_gone:
        return duplicate("the post is gone from the platform: it is not read any more")
    if command.round <= state.metrics_round:
        return duplicate(f"read round {command.round} is already recorded")
    return applied(
        PostMetricsRecorded(
            round=command.round,
            read_at=command.read_at,
            views=command.views,
            likes=command.likes,
            comments=command.comments,
            shares=command.shares,
            gone=command.gone,
        )
    )
