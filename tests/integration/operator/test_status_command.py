"""`wavestack status` on a real log and read model, and with a service down."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from tests.integration.operator.cli_support import closed_port, put_letters, wavestack
from tests.integration.projections.projection_support import (
    enqueue_command,
    enqueued,
    produce_commands,
    produce_events,
    projector_running,
    wait_caught_up,
)
from wavestack.settings import Settings


async def commit_position(settings: Settings, group: str, tp: TopicPartition, offset: int) -> None:
    """What the decider does after a batch: its group's next offset on a partition."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.commit({tp: OffsetAndMetadata(offset, "")})
    finally:
        await consumer.stop()


async def test_status_shows_lag_pending_commands_overdue_items_and_dead_letters(
    settings: Settings, db: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    stuck = enqueue_command(uuid.uuid4(), uuid.uuid4(), occurred_at=now - timedelta(hours=1))
    await produce_commands(settings, [stuck])
    # schedule_at a year ago and still scheduled: overdue.
    await produce_events(settings, [enqueued(uuid.uuid4()), enqueued(uuid.uuid4())])
    async with projector_running(settings):
        await wait_caught_up(settings, db)
    commands = settings.topics.commands
    positions = await db.fetch(
        "SELECT partition, next_offset FROM projection_offsets WHERE topic = $1", commands
    )
    busy = TopicPartition(commands, positions[0]["partition"])
    # The decider's group stands at the start of the partition holding the command.
    await commit_position(settings, f"{settings.topic_prefix}-worker", busy, 0)
    source = f"{settings.topics.events}:0:7"
    await put_letters(settings, [(b"k", b"not json", "invalid envelope: x", source)] * 3)

    run = await wavestack(settings, "status", "--json")

    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["kafka"] == {"ok": True, "error": None}
    assert report["database"] == {"ok": True, "error": None}
    groups = {g["group"]: g for g in report["consumer_groups"]}
    worker = groups[f"{settings.topic_prefix}-worker"]
    assert worker["lag"] == 1
    assert worker["partitions"] == [
        {"topic": commands, "partition": busy.partition, "position": 0, "end": 1, "lag": 1}
    ]
    projector = groups[f"{settings.topic_prefix}.projector.{settings.db_schema}"]
    assert projector["lag"] == 0
    assert len(projector["partitions"]) == 2 * settings.topic_partitions
    pending = report["commands_without_outcome"]
    assert pending["count"] == 1
    assert pending["commands"][0]["command_id"] == str(stuck.command_id)
    assert report["overdue_items"]["count"] == 2
    assert report["overdue_items"]["by_platform"] == {"youtube": 2}
    assert report["dlq"] == {"topic": settings.topics.dlq, "messages": 3}

    text = await wavestack(settings, "status")
    assert text.code == 0, text.stderr
    assert f"total {settings.topic_prefix}-worker: 1" in text.stdout
    assert "Commands without an outcome (pending > 300 s): 1" in text.stdout
    assert str(stuck.command_id) in text.stdout
    assert "Overdue queue items (> 60 s past due): 2 (youtube 2)" in text.stdout
    assert f"Dead letters on {settings.topics.dlq}: 3" in text.stdout


async def test_status_of_an_idle_deployment_has_no_groups_and_an_empty_dlq(
    settings: Settings,
) -> None:
    run = await wavestack(settings, "status")

    assert run.code == 0, run.stderr
    assert f"{settings.topic_prefix}.projector.{settings.db_schema}" in run.stdout
    assert "Commands without an outcome (pending > 300 s): 0" in run.stdout
    assert "Overdue queue items (> 60 s past due): 0" in run.stdout
    assert f"Dead letters on {settings.topics.dlq}: 0" in run.stdout


async def test_status_with_the_broker_down_says_so_quickly_and_fails(settings: Settings) -> None:
    bootstrap = f"127.0.0.1:{closed_port()}"

    run = await wavestack(settings, "status", WAVESTACK_KAFKA_BOOTSTRAP=bootstrap)

    assert run.code == 1
    assert run.seconds < 10
    assert f"DOWN: Kafka at {bootstrap} unreachable" in run.stdout
    assert "Dead letters: unknown (Kafka is down)" in run.stdout
    # PostgreSQL is still asked.
    assert "Commands without an outcome (pending > 300 s): 0" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


async def test_status_with_postgresql_down_says_so_in_json_too(settings: Settings) -> None:
    dsn = f"postgresql://nobody@127.0.0.1:{closed_port()}/nothing"

    run = await wavestack(settings, "status", "--json", WAVESTACK_DATABASE_URL=dsn)

    assert run.code == 1
    report = json.loads(run.stdout)
    assert report["database"]["ok"] is False
    assert report["database"]["error"].startswith("PostgreSQL unreachable")
    assert report["commands_without_outcome"] is None
    assert report["kafka"]["ok"] is True
    assert report["dlq"]["messages"] == 0
    assert "Traceback" not in run.stderr
