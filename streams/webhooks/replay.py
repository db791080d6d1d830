"""Replay jobs: a subscription's matching events since a time, read again from the log.

A job is a row of the replays table (written with the offset of its
WebhookReplayRequested, so it survives a crash); it reads every partition from the
first offset at or after ``since`` up to the end offsets it saw when it started, and
inserts due rows under delivery ids derived from the replay id (new deliveries, same
webhook-id = event id). A crash mid-way runs the job again: the inserts are idempotent.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.codec import DecodeError, decode
from schemas.kafka_security import KafkaConnection, kafka_client_options
from schemas.webhooks import public_event
from streams.runtime.sending import TYPE_HEADER
from streams.webhooks import attempts, metrics, store
from streams.webhooks.store import DueRow
from streams.webhooks.subscriptions import Subscription

log = structlog.get_logger("streams.webhooks")


async def _partitions(kafka: KafkaConnection, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(**kafka_client_options(kafka))
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [TopicPartition(topic, p["partition"]) for p in described.get("partitions", ())]


async def run_replay(
    kafka: KafkaConnection,
    topic: str,
    pool: asyncpg.Pool,
    db_schema: str,
    sub: Subscription,
    replay_id: uuid.UUID | None,
    since: datetime,
) -> int:
    """Inserts the job's due rows; returns how many events matched. ``replay_id`` None:
    a new subscription's catch-up, under the live delivery ids."""
    consumer = AIOKafkaConsumer(
        **kafka_client_options(kafka), group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    matched = 0
    try:
        parts = await _partitions(kafka, topic)
        if not parts:
            return 0  # no such topic (yet): nothing to replay
        consumer.assign(parts)
        # Kafka takes no negative timestamps: a time before 1970 means from the start.
        at_ms = max(0, int(since.timestamp() * 1000))
        starts = await consumer.offsets_for_times({tp: at_ms for tp in parts})
        ends = await consumer.end_offsets(parts)
        remaining: set[TopicPartition] = set()
        for tp in parts:
            start = starts.get(tp)
            if start is not None and start.offset < ends[tp]:
                consumer.seek(tp, start.offset)
                remaining.add(tp)
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=1000)
            rows: list[DueRow] = []
            for tp, records in fetched.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    kind = dict(record.headers).get(TYPE_HEADER, b"").decode()
                    if kind not in sub.event_types:
                        continue
                    try:
                        envelope = decode(record.value)
                    except DecodeError:
                        continue
                    if envelope.occurred_at < since or not sub.wants(envelope, replay=True):
                        continue
                    rows.append(
                        DueRow(
                            attempts.delivery_id(sub.id, envelope.id, replay_id),
                            sub.org_id,
                            sub.id,
                            envelope.id,
                            envelope.type,
                            replay_id,
                            1,
                            json.dumps(public_event(envelope)).encode(),
                        )
                    )
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
            if rows:
                async with pool.acquire() as conn:
                    await store.insert_due(conn, db_schema, rows, datetime.now().astimezone())
                matched += len(rows)
                metrics.QUEUED.labels("replay").inc(len(rows))
    finally:
        await consumer.stop()
    log.info("webhook_replay_done", replay_id=str(replay_id), matched=matched)
    return matched
