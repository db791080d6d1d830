"""Outbound webhooks: subscriptions (aggregate ``webhook``) and their deliveries.

A subscription's signing secrets are never on the log, not even sealed: each one is
derived from the subscription's data key in the vault's key table and the id of the
command that made it (``vault/webhook_secrets.py``), so shredding the data key on
delete makes every secret the subscription ever had unrecoverable. A delivery
(aggregate ``webhook_delivery``, id derived from subscription, event and replay) records
each attempt once: the delivery process reports under ids derived from the attempt.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, Field

from schemas.base import Command, Event
from schemas.envelope import Envelope

DeliveryOutcome = Literal["delivered", "retrying", "dead", "disabled", "dropped"]
MAX_URL_CHARS = 2000
MAX_EVENT_TYPES = 50
MAX_SUMMARY_CHARS = 500
# How long a rotated-out secret keeps signing deliveries beside the new one.
PREVIOUS_SECRET_SECONDS = 24 * 3600


class CreateWebhook(Command):
    TYPE: ClassVar[str] = "webhook.CreateWebhook"
    AGGREGATE_TYPE: ClassVar[str] = "webhook"

    url: str = Field(min_length=1, max_length=MAX_URL_CHARS)
    event_types: list[str] = Field(min_length=1, max_length=MAX_EVENT_TYPES)
    description: str = Field(default="", max_length=500)
    # The ring key that wrapped the subscription's data key (audit only).
    key_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")


class RotateWebhookSecret(Command):
    """A new secret, derived from this command's id; the previous ones keep signing 24 h."""

    TYPE: ClassVar[str] = "webhook.RotateWebhookSecret"
    AGGREGATE_TYPE: ClassVar[str] = "webhook"


class DeleteWebhook(Command):
    TYPE: ClassVar[str] = "webhook.DeleteWebhook"
    AGGREGATE_TYPE: ClassVar[str] = "webhook"


class DisableWebhook(Command):
    """The delivery process's report that the endpoint answered 410 Gone."""

    TYPE: ClassVar[str] = "webhook.DisableWebhook"
    AGGREGATE_TYPE: ClassVar[str] = "webhook"

    reason: str = Field(max_length=MAX_SUMMARY_CHARS)


class ReplayWebhook(Command):
    """Re-deliver the subscription's matching events that occurred at or after ``since``."""

    TYPE: ClassVar[str] = "webhook.ReplayWebhook"
    AGGREGATE_TYPE: ClassVar[str] = "webhook"

    since: AwareDatetime


class RecordWebhookDelivery(Command):
    """One attempt of one delivery and how it ended (the delivery process reports it)."""

    TYPE: ClassVar[str] = "webhook.RecordWebhookDelivery"
    AGGREGATE_TYPE: ClassVar[str] = "webhook_delivery"

    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str = Field(max_length=200)
    replay_id: uuid.UUID | None = None
    attempt: int = Field(ge=1)
    outcome: DeliveryOutcome
    response_status: int | None = Field(default=None, ge=100, le=599)
    summary: str = Field(default="", max_length=MAX_SUMMARY_CHARS)
    next_attempt_at: AwareDatetime | None = None
    attempted_at: AwareDatetime


class WebhookCreated(Event):
    TYPE: ClassVar[str] = "webhook.WebhookCreated"
    AGGREGATE_TYPE: ClassVar[str] = "webhook"

    url: str
    event_types: list[str]
    description: str
    key_id: str


class WebhookSecretRotated(Event):
    """The secret of this event's command id signs from now on, beside the earlier ones
    until ``previous_expires_at``."""

    TYPE: ClassVar[str] = "webhook.WebhookSecretRotated"
    AGGREGATE_TYPE: ClassVar[str] = "webhook"

    previous_expires_at: AwareDatetime


class WebhookDeleted(Event):
    """Gone; its data key is destroyed, so none of its secrets can be derived again."""

    TYPE: ClassVar[str] = "webhook.WebhookDeleted"
    AGGREGATE_TYPE: ClassVar[str] = "webhook"


class WebhookDisabled(Event):
    TYPE: ClassVar[str] = "webhook.WebhookDisabled"
    AGGREGATE_TYPE: ClassVar[str] = "webhook"

    reason: str


class WebhookReplayRequested(Event):
    TYPE: ClassVar[str] = "webhook.WebhookReplayRequested"
    AGGREGATE_TYPE: ClassVar[str] = "webhook"

    since: AwareDatetime


class WebhookDeliveryRecorded(Event):
    TYPE: ClassVar[str] = "webhook.WebhookDeliveryRecorded"
    AGGREGATE_TYPE: ClassVar[str] = "webhook_delivery"

    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    replay_id: uuid.UUID | None = None
    attempt: int
    outcome: DeliveryOutcome
    response_status: int | None = None
    summary: str = ""
    next_attempt_at: AwareDatetime | None = None
    attempted_at: AwareDatetime


# Fields of an event's data that no subscriber receives: ciphertext bound to a key
# that crypto-shredding must be able to reach, and an upload session URI (a capability).
HIDDEN_FIELDS: dict[str, tuple[str, ...]] = {
    "connection.ConnectionCreated": ("sealed_credentials",),
    "queue.PublishCheckpointed": ("session",),
}
# Bookkeeping a subscriber cannot subscribe to: every command's outcome (deliveries
# make commands, so a subscription to them would feed itself).
UNSUBSCRIBABLE_PREFIXES: tuple[str, ...] = ("command.",)


def subscribable(event_type: str, known: set[str] | frozenset[str]) -> bool:
    return event_type in known and not event_type.startswith(UNSUBSCRIBABLE_PREFIXES)


def public_event(envelope: Envelope) -> dict[str, Any]:
    """What a subscriber receives: the Standard Webhooks shape (``type``, ``timestamp``,
    ``data``) plus the event's id, version and aggregate; never the command, correlation,
    causation ids or the actor (internal), nor HIDDEN_FIELDS."""
    hidden = HIDDEN_FIELDS.get(envelope.type, ())
    return {
        "id": str(envelope.id),
        "type": envelope.type,
        "version": envelope.version,
        "timestamp": envelope.occurred_at.isoformat().replace("+00:00", "Z"),
        "aggregate_type": envelope.aggregate_type,
        "aggregate_id": str(envelope.aggregate_id),
        "sequence": envelope.sequence,
        "data": {k: v for k, v in envelope.data.items() if k not in hidden},
    }
