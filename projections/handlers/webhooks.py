"""webhooks and webhook_deliveries: subscriptions and each delivery's attempts.

No secret is ever here: a subscription's secrets are derived from its data key in the
vault's key table (vault/webhook_secrets.py) and shown only by the API's create and
rotate answers.
"""

from __future__ import annotations

from projections.handlers.guard import applies, changed
from projections.tables import WEBHOOK_DELIVERIES, WEBHOOKS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.webhooks import (
    WebhookCreated,
    WebhookDeleted,
    WebhookDeliveryRecorded,
    WebhookDisabled,
    WebhookSecretRotated,
)


def created(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    if row is not None:
        return row
    env, hook = decoded.envelope, decoded.as_(WebhookCreated)
    return new_row(
        WEBHOOKS,
        id=env.aggregate_id,
        org_id=env.org_id,
        url=hook.url,
        event_types=list(hook.event_types),
        description=hook.description,
        status="active",
        created_at=env.occurred_at,
        updated_at=env.occurred_at,
        version=env.sequence,
    )


def rotated(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    env, rotation = decoded.envelope, decoded.as_(WebhookSecretRotated)
    if row is None or not applies(row, env):
        return row
    return changed(
        row,
        env,
        secret_rotated_at=env.occurred_at,
        previous_secret_expires_at=rotation.previous_expires_at,
    )


def disabled(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    env, event = decoded.envelope, decoded.as_(WebhookDisabled)
    if row is None or not applies(row, env) or row["status"] == "deleted":
        return row
    return changed(row, env, status="disabled", disabled_reason=event.reason)


def deleted(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    decoded.as_(WebhookDeleted)
    env = decoded.envelope
    if row is None or not applies(row, env):
        return row
    return changed(row, env, status="deleted", deleted_at=env.occurred_at)


def unchanged(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    """A replay request changes nothing of the subscription (the deliveries show it)."""
    env = decoded.envelope
    if row is None or not applies(row, env):
        return row
    return changed(row, env)


def delivery_recorded(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    env, event = decoded.envelope, decoded.as_(WebhookDeliveryRecorded)
    attempt = {
        "status": event.outcome,
        "attempts": event.attempt,
        "response_status": event.response_status,
        "summary": event.summary,
        "next_attempt_at": event.next_attempt_at,
        "last_attempt_at": event.attempted_at,
    }
    if row is None:
        return new_row(
            WEBHOOK_DELIVERIES,
            id=env.aggregate_id,
            org_id=env.org_id,
            subscription_id=event.subscription_id,
            event_id=event.event_id,
            event_type=event.event_type,
            replay_id=event.replay_id,
            response_codes=[event.response_status],
            first_attempt_at=event.attempted_at,
            updated_at=env.occurred_at,
            version=env.sequence,
            **attempt,
        )
    if not applies(row, env):
        return row
    codes = [*row["response_codes"], event.response_status]
    return changed(row, env, response_codes=codes, **attempt)
