"""The status figures as the projector's gauges, refreshed against a real log and model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from aiokafka import TopicPartition
from prometheus_client import REGISTRY

from projections.health_gauges import refresh
from tests.integration.operator.cli_support import put_letters
from tests.integration.operator.test_status_command import commit_position
from tests.integration.projections.projection_support import (
    enqueue_command,
    produce_commands,
    projector_running,
    wait_caught_up,
)
from wavestack.settings import Settings


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_a_refresh_sets_group_lag_dlq_size_and_commands_without_outcome(
    settings: Settings, db: asyncpg.Connection
) -> None:
    old = datetime.now(UTC) - timedelta(hours=1)
    await produce_commands(
        settings, [enqueue_command(uuid.uuid4(), uuid.uuid4(), occurred_at=old) for _ in range(2)]
    )
    async with projector_running(settings):
        await wait_caught_up(settings, db)
    row = await db.fetchrow(
        "SELECT partition, next_offset FROM projection_offsets WHERE topic = $1"
        " ORDER BY next_offset DESC LIMIT 1",
        settings.topics.commands,
    )
    assert row is not None
    group = f"{settings.topic_prefix}-worker"
    tp = TopicPartition(settings.topics.commands, row["partition"])
    await commit_position(settings, group, tp, 0)
    await put_letters(settings, [(b"k", b"x", "invalid envelope", f"{tp.topic}:0:0")] * 2)

    await refresh(settings)

    lag = sample(
        "wavestack_consumer_group_lag", group=group, topic=tp.topic, partition=str(tp.partition)
    )
    assert lag == row["next_offset"]
    assert sample("wavestack_dlq_messages") == 2
    assert sample("wavestack_commands_without_outcome") == 2
    projector = f"{settings.topic_prefix}.projector.{settings.db_schema}"
    assert (
        sample("wavestack_consumer_group_lag", group=projector, topic=tp.topic, partition="0")
        is None
    )
