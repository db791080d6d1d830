"""A subscription read after events that followed it (another partition, read later)
still gets them: its catch-up queues them under their live delivery ids."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from aiokafka import AIOKafkaProducer

from schemas.base import Event
from schemas.codec import encode, wrap
from schemas.envelope import Actor
from schemas.events import ProjectCreated
from schemas.webhooks import WebhookCreated
from streams.runtime.sending import TYPE_HEADER
from tests.integration.webhooks.support import Receiver, Stack
from vault import keytable, webhook_secrets

ORG = "org-catch-up"


async def _put(stack: Stack, message: Event, aggregate: uuid.UUID, at: datetime) -> uuid.UUID:
    """An event on the events topic as the decider writes it; returns its command id."""
    command_id = uuid.uuid4()
    envelope = wrap(
        message,
        id=uuid.uuid4(),
        org_id=ORG,
        aggregate_id=aggregate,
        sequence=1,
        occurred_at=at,
        command_id=command_id,
        correlation_id=command_id,
        causation_id=command_id,
        actor=Actor(sub="tester"),
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            stack.settings.topics.events,
            encode(envelope),
            key=str(aggregate).encode(),
            headers=[(TYPE_HEADER, message.TYPE.encode())],
        )
    finally:
        await producer.stop()
    return envelope.id if isinstance(message, ProjectCreated) else command_id


async def test_events_read_before_their_subscription_are_delivered_once_it_is_read(
    stack: Stack, receiver: Receiver
) -> None:
    subscription = uuid.uuid4()
    row = webhook_secrets.new_row(stack.ring, ORG, str(subscription))
    conn = await asyncpg.connect(stack.settings.dsn)
    try:
        await keytable.create_table(conn, stack.settings.db_schema)
        await keytable.store(conn, stack.settings.db_schema, row)
    finally:
        await conn.close()
    made_at = datetime.now(UTC)
    event_id = await _put(stack, ProjectCreated(name="Early"), uuid.uuid4(), made_at)
    await asyncio.sleep(2.0)  # read and passed over: nobody subscribes to it yet
    assert receiver.of("late") == []

    created = WebhookCreated(
        url=receiver.url("late"),
        event_types=[ProjectCreated.TYPE],
        description="",
        key_id=stack.ring.primary,
    )
    command_id = await _put(stack, created, subscription, made_at - timedelta(seconds=1))

    [request] = await receiver.wait_for("late", timeout=30)
    assert request.webhook_id == str(event_id)
    key = webhook_secrets.data_key(row, stack.ring)
    request.verified(webhook_secrets.derive_secret(key, ORG, str(subscription), command_id))
    await asyncio.sleep(1.0)
    assert len(receiver.of("late")) == 1  # the live id: queued once
