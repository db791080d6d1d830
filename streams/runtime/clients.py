"""The Kafka clients every plain-aiokafka process builds the same way (decider, media,
publisher), and how they are stopped.

A group member with static membership and manual commits, a consumer that reads
changelogs back, and an idempotent acks=all producer. The settings that differ
between processes (batch sizes, linger) are arguments; the ones that must not differ
(commits, membership, the session arithmetic) are here once.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.kafka_security import kafka_client_options
from schemas.partitioning import partition_for
from streams.runtime.app import MAX_REQUEST_BYTES, StreamsSettings, instance_id

log = structlog.get_logger("streams.runtime.clients")

# Stopping a client at shutdown, once everything is committed: aiokafka's consumer
# first awaits its coordination task, which may be in the middle of a group round
# (a join can wait for the broker's rebalance timeout). Past this the client is left
# to the broker (static membership: its session expires) and the process ends.
STOP_SECONDS = 10.0

# Restoring a partition's store may take minutes on a new disk (docs/performance.md):
# a member busy restoring must not be thrown out of its group meanwhile.
MAX_POLL_INTERVAL_MS = 30 * 60 * 1000


def group_member(
    settings: StreamsSettings, group: str, role: str, *, max_poll_records: int
) -> AIOKafkaConsumer:
    """A member of ``group`` that commits by hand, under a static instance id, so a
    restart within the session takes its partitions back without a rebalance."""
    session_ms = int(settings.worker_session_timeout_seconds * 1000)
    return AIOKafkaConsumer(
        **kafka_client_options(settings.kafka),
        group_id=group,
        group_instance_id=instance_id(settings, role),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_poll_records,
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=max(session_ms // 10, 300),
        rebalance_timeout_ms=max(session_ms, 10_000),
        max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
    )


def changelog_reader(settings: StreamsSettings) -> AIOKafkaConsumer:
    """Reads changelog partitions back (assigned by hand, no group). "earliest": a
    stored offset below the log's start (records deleted by an operator) must read
    what is there, never jump to the end."""
    return AIOKafkaConsumer(
        **kafka_client_options(settings.kafka),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


def durable_producer(
    settings: StreamsSettings, *, linger_ms: int, **extra: Any
) -> AIOKafkaProducer:
    """acks=all and idempotence: a retried batch the broker already has is dropped, so
    nothing is doubled or reordered within a partition."""
    return AIOKafkaProducer(
        **kafka_client_options(settings.kafka),
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        max_request_size=MAX_REQUEST_BYTES,
        partitioner=partition_for,
        **extra,
    )


class Stoppable(Protocol):
    async def stop(self) -> None: ...


async def stop_clients(*clients: Stoppable, seconds: float = STOP_SECONDS) -> None:
    """Stops each client in turn, none for longer than ``seconds``: called at shutdown
    after the last commit, when nothing is left that a stuck client could lose."""
    for client in clients:
        try:
            async with asyncio.timeout(seconds):
                await client.stop()
        except TimeoutError:
            log.warning("client_stop_abandoned", client=type(client).__name__, seconds=seconds)
