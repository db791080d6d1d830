"""Outbound webhook subscriptions and their deliveries: two aggregates, pure functions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.base import Command, Event
from schemas.webhooks import (
    PREVIOUS_SECRET_SECONDS,
    CreateWebhook,
    DeleteWebhook,
    DeliveryOutcome,
    DisableWebhook,
    RecordWebhookDelivery,
    ReplayWebhook,
    RotateWebhookSecret,
    WebhookCreated,
    WebhookDeleted,
    WebhookDeliveryRecorded,
    WebhookDisabled,
    WebhookReplayRequested,
    WebhookSecretRotated,
)
from streams.domain.common import CONFLICT, NOT_FOUND, Decision, applied, duplicate, rejected

WebhookStatus = Literal["active", "disabled", "deleted"]
FINAL: frozenset[DeliveryOutcome] = frozenset({"delivered", "dead", "disabled", "dropped"})


class WebhookState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    status: WebhookStatus


def decide(command: Command, state: WebhookState | None, now: datetime) -> Decision:
    if isinstance(command, CreateWebhook):
        if state is not None:
            return rejected(CONFLICT, "a webhook with this id already exists")
        return applied(
            WebhookCreated(
                url=command.url,
                event_types=command.event_types,
                description=command.description,
                key_id=command.key_id,
            )
        )
    if state is None:
        return rejected(NOT_FOUND, "webhook not found")
    match command:
        case DeleteWebhook():
            if state.status == "deleted":
                return duplicate("the webhook is already deleted")
            return applied(WebhookDeleted())
        case _ if state.status == "deleted":
            return rejected(NOT_FOUND, "webhook not found")
        case RotateWebhookSecret():
            expires = now + timedelta(seconds=PREVIOUS_SECRET_SECONDS)
            return applied(WebhookSecretRotated(previous_expires_at=expires))
        case DisableWebhook():
            if state.status == "disabled":
                return duplicate("the webhook is already disabled")
            return applied(WebhookDisabled(reason=command.reason))
        case ReplayWebhook():
            if state.status == "disabled":
                return rejected(CONFLICT, "the webhook is disabled: its endpoint answered 410")
            return applied(WebhookReplayRequested(since=command.since))
    raise TypeError(f"not a webhook command: {command.TYPE}")


def evolve(state: WebhookState | None, event: Event) -> WebhookState:
    match event:
        case WebhookCreated():
            return WebhookState(status="active")
        case WebhookDeleted() if state is not None:
            return state.model_copy(update={"status": "deleted"})
        case WebhookDisabled() if state is not None:
            return state.model_copy(update={"status": "disabled"})
        case WebhookSecretRotated() | WebhookReplayRequested() if state is not None:
            return state
    raise ValueError(f"{event.TYPE} cannot apply to webhook state {state!r}")


class DeliveryState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    attempts: int
    outcome: DeliveryOutcome


def decide_delivery(command: Command, state: DeliveryState | None, now: datetime) -> Decision:
    if not isinstance(command, RecordWebhookDelivery):
        raise TypeError(f"not a delivery command: {command.TYPE}")
    if state is not None:
        if command.attempt <= state.attempts:
            return duplicate(f"attempt {command.attempt} is already recorded")
        if state.outcome in FINAL:
            return rejected(CONFLICT, f"the delivery is already {state.outcome}")
    return applied(
        WebhookDeliveryRecorded(
            subscription_id=command.subscription_id,
            event_id=command.event_id,
            event_type=command.event_type,
            replay_id=command.replay_id,
            attempt=command.attempt,
            outcome=command.outcome,
            response_status=command.response_status,
            summary=command.summary,
            next_attempt_at=command.next_attempt_at,
            attempted_at=command.attempted_at,
        )
    )


def evolve_delivery(state: DeliveryState | None, event: Event) -> DeliveryState:
    if isinstance(event, WebhookDeliveryRecorded):
        return DeliveryState(attempts=event.attempt, outcome=event.outcome)
    raise ValueError(f"{event.TYPE} cannot apply to delivery state {state!r}")
