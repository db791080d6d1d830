"""publish_attempts: one row per (item, attempt), from PublishStarted to its end.

The events of an attempt are events of its item, so the version guard orders them
like the item's own; an attempt row only exists once its PublishStarted was read
(the decider emits nothing else for an attempt before it).
"""

from __future__ import annotations

import uuid

from projections.handlers.guard import applies, changed
from projections.tables import PUBLISH_ATTEMPTS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.envelope import Envelope
from schemas.ids import derived_id
from schemas.publishing import (
    ItemPublished,
    ItemUnconfirmed,
    PublishAttemptFailed,
    PublishReconciled,
    PublishStarted,
)


def attempt_row_id(item_id: uuid.UUID, attempt: int) -> uuid.UUID:
    return derived_id(item_id, f"publish-attempt:{attempt}")


def attempt_key(env: Envelope) -> uuid.UUID:
    # Every event routed here carries `attempt` (validated when it was decoded).
    return attempt_row_id(env.aggregate_id, int(env.data["attempt"]))


def started(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    if row is not None:
        return row
    env, start = decoded.envelope, decoded.as_(PublishStarted)
    return new_row(
        PUBLISH_ATTEMPTS,
        id=attempt_row_id(env.aggregate_id, start.attempt),
        org_id=env.org_id,
        item_id=env.aggregate_id,
        attempt=start.attempt,
        attempt_id=start.attempt_id,
        adapter=start.adapter,
        fingerprint=start.fingerprint,
        outcome="publishing",
        started_at=env.occurred_at,
        reconcile_attempt_id=start.reconcile_attempt_id,
        created_at=env.occurred_at,
        updated_at=env.occurred_at,
        version=env.sequence,
    )


def failed(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    failure = decoded.as_(PublishAttemptFailed)
    env = decoded.envelope
    if row is None or not applies(row, env):
        return row
    return changed(
        row,
        env,
        outcome="failed",
        finished_at=env.occurred_at,
        error_class=failure.error_class,
        platform_status=failure.platform_status,
        summary=failure.summary,
        next_attempt_at=failure.next_attempt_at,
    )


def reconciled(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    """What was found about an earlier attempt id before this attempt sent anything
    (the outcome follows in its own event: ItemPublished, ItemUnconfirmed, ...)."""
    found = decoded.as_(PublishReconciled)
    if row is None or not applies(row, decoded.envelope):
        return row
    return changed(
        row,
        decoded.envelope,
        reconciled_attempt_id=found.attempt_id,
        reconcile_finding=found.finding,
        reconcile_detail=found.detail,
    )


def published(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    post = decoded.as_(ItemPublished)
    env = decoded.envelope
    if row is None or not applies(row, env):
        return row
    # A late find on an unconfirmed item turns that attempt's doubt into its success.
    return changed(
        row, env, outcome="published", finished_at=env.occurred_at, platform_post_id=post.post_id
    )


def unconfirmed(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    decoded.as_(ItemUnconfirmed)
    env = decoded.envelope
    if row is None or not applies(row, env):
        return row
    return changed(row, env, outcome="unconfirmed", finished_at=env.occurred_at)
