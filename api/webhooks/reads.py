"""Subscriptions and deliveries as the read model holds them: never a secret."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel

from api.backends.postgres import Database
from api.reads.paging import ListQuery, Page, Where, fetch_page, uuid_key

COLUMNS = (
    "id, url, event_types, description, status, disabled_reason, secret_rotated_at, "
    "previous_secret_expires_at, created_at, deleted_at, updated_at, version"
)
DELIVERY_COLUMNS = (
    "id, subscription_id, event_id, event_type, replay_id, status, attempts, response_status, "
    "response_codes, summary, next_attempt_at, first_attempt_at, last_attempt_at, updated_at"
)


class Webhook(BaseModel):
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str
    status: str  # active | disabled (the endpoint answered 410) | deleted
    disabled_reason: str | None
    secret_rotated_at: datetime | None
    # Until then the secrets from before the last rotation sign deliveries too.
    previous_secret_expires_at: datetime | None
    created_at: datetime
    deleted_at: datetime | None
    updated_at: datetime
    version: int


class Delivery(BaseModel):
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID  # = the webhook-id header
    event_type: str
    replay_id: uuid.UUID | None
    status: str  # delivered | retrying | dead | disabled | dropped
    attempts: int
    response_status: int | None
    response_codes: list[int | None]
    summary: str
    next_attempt_at: datetime | None
    first_attempt_at: datetime
    last_attempt_at: datetime
    updated_at: datetime


class WebhookQuery(ListQuery):
    status: Literal["active", "disabled", "deleted"] | None = None


class DeliveryQuery(ListQuery):
    status: Literal["delivered", "retrying", "dead", "disabled", "dropped"] | None = None


def _webhook(row: asyncpg.Record) -> Webhook:
    return Webhook.model_validate(dict(row))


def _delivery(row: asyncpg.Record) -> Delivery:
    return Delivery.model_validate(dict(row))


async def list_webhooks(db: Database, org_id: str, query: WebhookQuery) -> Page[Webhook]:
    where = Where(org_id)
    where.maybe("status = {}", query.status)
    return await fetch_page(
        db,
        f"SELECT {COLUMNS} FROM webhooks",
        where,
        "id",
        query,
        uuid_key,
        _webhook,
        lambda hook: str(hook.id),
    )


async def get_webhook(db: Database, org_id: str, webhook_id: uuid.UUID) -> Webhook | None:
    row = await db.fetchrow(
        f"SELECT {COLUMNS} FROM webhooks WHERE org_id = $1 AND id = $2", org_id, webhook_id
    )
    return None if row is None else _webhook(row)


async def list_deliveries(
    db: Database, org_id: str, webhook_id: uuid.UUID, query: DeliveryQuery
) -> Page[Delivery]:
    where = Where(org_id)
    where.add("subscription_id = {}", webhook_id)
    where.maybe("status = {}", query.status)
    return await fetch_page(
        db,
        f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries",
        where,
        "id",
        query,
        uuid_key,
        _delivery,
        lambda delivery: str(delivery.id),
    )
