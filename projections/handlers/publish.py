"""queue_items through publishing: publishing → published | retrying | failed | unconfirmed.

Each fold mirrors one case of ``streams.domain.queue._changes``. Where the decider
keeps state the read model does not show (the failure count, the attempt id to
reconcile, the upload session), the row keeps what a reader needs instead: the
attempt count, the last error and a reason for people.
"""

from __future__ import annotations

from projections.handlers.guard import applies
from projections.handlers.posts import post_id_of
from projections.handlers.queue import moved
from projections.tables import Row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.publishing import (
    ItemFailed,
    ItemPublished,
    ItemRetried,
    ItemUnconfirmed,
    PublishAttemptFailed,
    PublishStarted,
)


def publish_started(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    start = decoded.as_(PublishStarted)
    if row is None or not applies(row, decoded.envelope):
        return row
    # The pending retry time is spent; the decider's is only read while startable.
    return moved(
        row,
        decoded.envelope,
        status="publishing",
        attempts=start.attempt,
        next_attempt_at=None,
        reason=None,
    )


def attempt_failed(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    failure = decoded.as_(PublishAttemptFailed)
    if row is None or not applies(row, decoded.envelope):
        return row
    # Waiting for a quota's reset is not failing (an ItemRescheduled with the reason
    # follows); anything else retries at next_attempt_at, or ends with ItemFailed.
    status = "scheduled" if failure.error_class == "quota" else "retrying"
    return moved(
        row,
        decoded.envelope,
        status=status,
        next_attempt_at=failure.next_attempt_at,
        last_error=failure.summary,
        error_class=failure.error_class,
        reason=None,
    )


def item_failed(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    failure = decoded.as_(ItemFailed)
    if row is None or not applies(row, decoded.envelope):
        return row
    return moved(
        row,
        decoded.envelope,
        status="failed",
        next_attempt_at=None,
        reason=failure.reason,
        error_class=failure.error_class,
        connection_broken=failure.connection_broken,
    )


def item_unconfirmed(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    doubt = decoded.as_(ItemUnconfirmed)
    if row is None or not applies(row, decoded.envelope):
        return row
    return moved(
        row, decoded.envelope, status="unconfirmed", next_attempt_at=None, reason=doubt.reason
    )


def item_retried(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    """A new series: scheduled, due at the retry's time. schedule_at stays the one the
    client asked for (the decider keeps it too); last_error and error_class stay as the
    last failed attempt's."""
    retry = decoded.as_(ItemRetried)
    if row is None or not applies(row, decoded.envelope):
        return row
    return moved(
        row,
        decoded.envelope,
        status="scheduled",
        next_attempt_at=retry.schedule_at,
        reason=None,
        connection_broken=False,
    )


def item_published(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    decoded.as_(ItemPublished)
    env = decoded.envelope
    if row is None or not applies(row, env):
        return row
    return moved(
        row,
        env,
        status="published",
        next_attempt_at=None,
        reason=None,
        post_id=post_id_of(env.aggregate_id),
    )
