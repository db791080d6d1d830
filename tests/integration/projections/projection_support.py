"""Helpers of the projector tests: envelopes, producing them, running the projector.

Plain functions and context managers rather than fixtures, so the tests of this
folder need no conftest.py of their own.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from projections.kafka import log_ends, partitions_of
from projections.projector import Projector
from schemas.base import Message
from schemas.codec import encode, wrap
from schemas.commands import EnqueueItem
from schemas.envelope import Actor, Envelope
from schemas.events import (
    CommandOutcomeRecorded,
    ItemCancelled,
    ItemEnqueued,
    ItemRescheduled,
    ProjectCreated,
)
from schemas.ids import event_id_for, fingerprint
from wavestack.settings import Settings

ORG = "org-projections"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ACTOR = Actor(sub="tester", kind="bot")

Raw = tuple[bytes | None, bytes | None]  # (key, value)


def event(
    message: Message,
    *,
    aggregate_id: uuid.UUID,
    sequence: int,
    command_id: uuid.UUID | None = None,
    org_id: str = ORG,
    occurred_at: datetime | None = None,
    index: int = 1,
) -> Envelope:
    """An event as the decider would emit it: the id follows from command and index."""
    command_id = command_id or uuid.uuid5(aggregate_id, f"command-{sequence}")
    return wrap(
        message,
        id=event_id_for(command_id, index),
        org_id=org_id,
        aggregate_id=aggregate_id,
        occurred_at=occurred_at or T0 + timedelta(seconds=sequence),
        command_id=command_id,
        correlation_id=command_id,
        causation_id=command_id,
        actor=ACTOR,
        sequence=sequence,
    )


def enqueued(item_id: uuid.UUID, *, title: str = "a video", **kw: Any) -> Envelope:
    message = ItemEnqueued(
        platform="youtube",
        title=title,
        description="",
        project_id=None,
        asset_id=None,
        schedule_at=T0 + timedelta(days=1),
        timezone="Europe/Paris",
        target={"privacy": "public"},
    )
    return event(message, aggregate_id=item_id, sequence=1, **kw)


def rescheduled(item_id: uuid.UUID, sequence: int, schedule_at: datetime, **kw: Any) -> Envelope:
    return event(
        ItemRescheduled(schedule_at=schedule_at), aggregate_id=item_id, sequence=sequence, **kw
    )


def cancelled(item_id: uuid.UUID, sequence: int, **kw: Any) -> Envelope:
    return event(
        ItemCancelled(reason="changed my mind"), aggregate_id=item_id, sequence=sequence, **kw
    )


def project_created(project_id: uuid.UUID, name: str, **kw: Any) -> Envelope:
    return event(ProjectCreated(name=name), aggregate_id=project_id, sequence=1, **kw)


def enqueue_command(
    command_id: uuid.UUID, item_id: uuid.UUID, *, occurred_at: datetime = T0, org_id: str = ORG
) -> Envelope:
    return wrap(
        EnqueueItem(platform="youtube", title="a video"),
        id=command_id,
        org_id=org_id,
        aggregate_id=item_id,
        occurred_at=occurred_at,
        command_id=command_id,
        correlation_id=command_id,
        causation_id=command_id,
        actor=ACTOR,
    )


def outcome(command: Envelope, event_ids: list[uuid.UUID], **kw: Any) -> Envelope:
    message = CommandOutcomeRecorded(
        command_type=command.type,
        outcome="applied",
        target_aggregate_type=command.aggregate_type,
        target_aggregate_id=command.aggregate_id,
        fingerprint=fingerprint(command.type, command.data),
        event_ids=event_ids,
    )
    # The outcome comes after the command's domain events.
    return event(
        message,
        aggregate_id=command.command_id,
        sequence=1,
        command_id=command.command_id,
        org_id=command.org_id,
        index=len(event_ids) + 1,
        **kw,
    )


def raw(env: Envelope) -> Raw:
    """Keyed by the aggregate the record belongs with (an outcome: its target)."""
    key = env.aggregate_id
    if env.type == CommandOutcomeRecorded.TYPE:
        key = uuid.UUID(env.data["target_aggregate_id"])
    return str(key).encode(), encode(env)


def tampered(env: Envelope, **data: Any) -> bytes:
    """A well-formed envelope whose data no longer validates."""
    body = json.loads(encode(env))
    body["data"].update(data)
    return json.dumps(body).encode()


async def produce(bootstrap: str, topic: str, records: Iterable[Raw]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        batch = [await producer.send(topic, value=v, key=k) for k, v in records]
        await asyncio.gather(*batch)
    finally:
        await producer.stop()


async def produce_events(settings: Settings, envelopes: Iterable[Envelope]) -> None:
    await produce(settings.kafka_bootstrap, settings.topics.events, map(raw, envelopes))


async def produce_commands(settings: Settings, envelopes: Iterable[Envelope]) -> None:
    await produce(settings.kafka_bootstrap, settings.topics.commands, map(raw, envelopes))


@asynccontextmanager
async def projector_running(settings: Settings, **options: Any) -> AsyncIterator[Projector]:
    """The live projector in a background task; stopped (and its errors raised) on exit."""
    stop = asyncio.Event()
    projector = Projector(settings, session_timeout_ms=6000, **options)
    task = asyncio.create_task(projector.run(stop))
    try:
        yield projector
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 30.0, interval: float = 0.1
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true within {timeout} s: {check.__qualname__}")
        await asyncio.sleep(interval)


async def stored_positions(db: asyncpg.Connection) -> dict[TopicPartition, int]:
    rows = await db.fetch("SELECT topic, partition, next_offset FROM projection_offsets")
    return {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def caught_up(settings: Settings, db: asyncpg.Connection) -> bool:
    """Every non-empty partition's stored position is at its end offset."""
    ends = await log_ends(settings.kafka_bootstrap, settings.topics)
    stored = await stored_positions(db)
    return all(stored.get(tp, 0) >= end for tp, end in ends.items() if end > 0)


async def wait_caught_up(settings: Settings, db: asyncpg.Connection, timeout: float = 30.0) -> None:
    async def check() -> bool:
        return await caught_up(settings, db)

    await eventually(check, timeout)


async def read_topic(
    settings: Settings, topic: str, *, at_least: int = 0, timeout: float = 10.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on ``topic`` (waiting until there are ``at_least``)."""
    tps = await partitions_of(settings.kafka_bootstrap, [topic])
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        found: list[ConsumerRecord[bytes, bytes]] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            ends = await consumer.end_offsets(tps)
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found.extend(records)
            done = all([await consumer.position(tp) >= ends[tp] for tp in tps])
            if done and len(found) >= at_least:
                return found
            if asyncio.get_running_loop().time() > deadline:
                return found
    finally:
        await consumer.stop()


def headers_of(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers or ()}


def workload(org_id: str = ORG, items: int = 30) -> tuple[list[Envelope], list[Envelope]]:
    """(commands, events) of a small but varied history: items created, moved,
    cancelled, projects, outcomes."""
    commands: list[Envelope] = []
    events: list[Envelope] = []
    for n in range(items):
        item = uuid.uuid5(uuid.NAMESPACE_URL, f"{org_id}/item/{n}")
        command_id = uuid.uuid5(item, "enqueue")
        command = enqueue_command(
            command_id, item, org_id=org_id, occurred_at=T0 + timedelta(minutes=n)
        )
        created = enqueued(item, command_id=command_id, org_id=org_id)
        commands.append(command)
        events += [created, outcome(command, [created.id])]
        if n % 3 == 0:
            events.append(cancelled(item, 2, org_id=org_id))
        elif n % 4 == 0:
            events.append(rescheduled(item, 2, T0 + timedelta(days=n), org_id=org_id))
    for n in range(3):
        project = uuid.uuid5(uuid.NAMESPACE_URL, f"{org_id}/project/{n}")
        events.append(project_created(project, f"Project {n}", org_id=org_id))
    return commands, events


async def produce_workload(settings: Settings, org_id: str = ORG, items: int = 30) -> int:
    """Produces the workload plus one poison record; returns how many records that was."""
    commands, events = workload(org_id, items)
    await produce_commands(settings, commands)
    await produce_events(settings, events)
    await produce(settings.kafka_bootstrap, settings.topics.events, [(b"poison", b"not json")])
    return len(commands) + len(events) + 1


async def drop_schemas_like(db: asyncpg.Connection, prefix: str) -> None:
    """Drops the schemas a rebuild left beside the test's own (``<schema>_old_<ts>``)."""
    for row in await db.fetch(
        "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", prefix + "_"
    ):
        await db.execute(f'DROP SCHEMA "{row["nspname"]}" CASCADE')


FINAL = T0 + timedelta(days=30)  # where every streamed item ends up


def item_history(item: uuid.UUID) -> list[Envelope]:
    return [
        enqueued(item),
        rescheduled(item, 2, T0 + timedelta(days=2)),
        rescheduled(item, 3, FINAL),
    ]


async def stream(settings: Settings, items: list[uuid.UUID], chunk: int, pause: float) -> None:
    """Produces the items' commands and events a chunk at a time, like live traffic."""
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        await produce_commands(settings, [enqueue_command(uuid.uuid5(i, "cmd"), i) for i in part])
        await produce_events(settings, [e for i in part for e in item_history(i)])
        await asyncio.sleep(pause)
