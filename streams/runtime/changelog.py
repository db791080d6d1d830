"""Compacted changelog topics of our tables: their key format and their creation.

Keys are JSON-encoded strings, the format Faust wrote for tables keyed by ``str``,
so a changelog a Faust app wrote reads back unchanged.
"""

from __future__ import annotations

import contextlib
import json

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.kafka_security import KafkaConnection, kafka_client_options


def changelog_key(key: str) -> bytes:
    return json.dumps(key).encode()


def key_of(changelog_key: bytes) -> str:
    return str(json.loads(changelog_key))


async def ensure_compacted(
    kafka: KafkaConnection | str, topic: str, partitions: int, replication: int
) -> None:
    """Creates the topic (compacted) unless it exists; partitioned like its input topic."""
    admin = AIOKafkaAdminClient(**kafka_client_options(kafka))
    await admin.start()
    try:
        new = NewTopic(topic, partitions, replication, topic_configs={"cleanup.policy": "compact"})
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics([new])
    finally:
        await admin.close()
