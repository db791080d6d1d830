"""Creates WaveStack's topics with the settings DESIGN.md §7 and §14 ask for."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, NoError, TopicAlreadyExistsError, for_code

from schemas.catalog import Topics
from schemas.kafka_security import HasKafka, KafkaConnection, kafka_client_options

# A bare bootstrap string (the local stack, tests), a connection, or settings.
Kafka = KafkaConnection | HasKafka | str

# The log is the source of truth: events and commands are never deleted.
FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}
# Three copies where the cluster has the brokers for them (DESIGN §14).
WANTED_REPLICAS = 3
# A broker SIGKILLed a moment ago is fenced within its session (6 s on the local
# cluster, 9 s by default): three tries 5 s apart outlast that.
ATTEMPTS = 3
RETRY_PAUSE_S = 5.0


def replication_for(brokers: int) -> int:
    """The replication factor a cluster of ``brokers`` live brokers gets by default."""
    return max(1, min(WANTED_REPLICAS, brokers))


def min_insync_for(replication_factor: int) -> int:
    """Acknowledged writes on two copies when there are three, so one broker may die
    without losing them or stopping writes; with fewer copies, one must do (a factor
    of 2 with min ISR 2 would stop all writes when either broker is down)."""
    return max(1, min(2, replication_factor - 1))


def topic_configs(replication_factor: int) -> dict[str, str]:
    return {**FOREVER, "min.insync.replicas": str(min_insync_for(replication_factor))}


@dataclass(frozen=True)
class TopicPlan:
    """What ``ensure_topics`` did: the replication it used and the topics it created."""

    brokers: int
    replication_factor: int
    created: list[str]


def raise_topic_errors(topic_errors: list[tuple[Any, ...]]) -> None:
    """aiokafka reports a refused topic in the answer, not as an exception: without
    this, a replication factor the cluster cannot give would pass in silence."""
    for topic, code, message, *_ in topic_errors:
        if code not in (NoError.errno, TopicAlreadyExistsError.errno):
            raise for_code(code)(f"{topic}: {message}")


async def live_brokers(admin: AIOKafkaAdminClient) -> int:
    cluster = await admin.describe_cluster()
    return len(cluster["brokers"])


def _admin(kafka: Kafka) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**kafka_client_options(kafka), request_timeout_ms=15000)


async def ensure_topics_planned(
    kafka: Kafka, topics: Topics, partitions: int, replication_factor: int | None = None
) -> TopicPlan:
    """Creates the missing topics. ``replication_factor`` None: min(3, live brokers).

    Topics that exist are left as they are (Kafka cannot change a topic's replication
    factor by creating it again; that is a partition reassignment). Right after a
    broker died, its metadata can still name it (the controller fences it only after
    its session): such retriable errors are retried a few times, a refusal is not.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await _ensure(kafka, topics, partitions, replication_factor)
        except (KafkaError, TimeoutError) as exc:
            retriable = isinstance(exc, TimeoutError) or exc.retriable
            if not retriable or attempt == ATTEMPTS:
                raise
            await asyncio.sleep(RETRY_PAUSE_S)
    raise AssertionError("unreachable")


async def _ensure(
    kafka: Kafka, topics: Topics, partitions: int, replication_factor: int | None
) -> TopicPlan:
    admin = _admin(kafka)
    await admin.start()
    try:
        brokers = await live_brokers(admin)
        factor = replication_factor or replication_for(brokers)
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, partitions, factor, topic_configs=topic_configs(factor))
            for name in topics.all()
            if name not in existing
        ]
        if wanted:
            # Another process may win the race; the topic is there, which is all we need.
            with contextlib.suppress(TopicAlreadyExistsError):
                response = await admin.create_topics(wanted)
                raise_topic_errors(response.topic_errors)
        return TopicPlan(brokers, factor, [t.name for t in wanted])
    finally:
        await admin.close()


async def ensure_topics(
    kafka: Kafka, topics: Topics, partitions: int, replication_factor: int | None = None
) -> list[str]:
    """Creates the missing topics; returns the names it created."""
    plan = await ensure_topics_planned(kafka, topics, partitions, replication_factor)
    return plan.created


async def replicas_by_topic(kafka: Kafka, prefix: str) -> dict[str, int]:
    """The fewest replicas of any partition, for every topic of ``prefix``: ours
    (``<prefix>.*``) and the streams apps' changelogs (``<prefix>-*``)."""
    admin = _admin(kafka)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith((f"{prefix}.", f"{prefix}-"))]
        if not names:
            return {}
        found: dict[str, int] = {}
        for topic in await admin.describe_topics(names):
            partitions = topic["partitions"]
            if partitions:
                found[topic["topic"]] = min(len(p["replicas"]) for p in partitions)
        return found
    finally:
        await admin.close()
