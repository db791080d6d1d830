"""Creates WaveStack's topics with the settings DESIGN.md §7 asks for."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.catalog import Topics
from schemas.kafka_security import KafkaConnection, kafka_client_options

# The log is the source of truth: events and commands are never deleted.
FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}


async def ensure_topics(
    kafka: KafkaConnection | str, topics: Topics, partitions: int, replication_factor: int = 1
) -> list[str]:
    """Creates the missing topics; returns the names it created."""
    admin = AIOKafkaAdminClient(**kafka_client_options(kafka), request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, partitions, replication_factor, topic_configs=FOREVER)
            for name in topics.all()
            if name not in existing
        ]
        if not wanted:
            return []
        # Another process may win the race; the topic is there, which is all we need.
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(wanted)
        return [t.name for t in wanted]
    finally:
        await admin.close()
