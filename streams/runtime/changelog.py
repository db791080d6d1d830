"""Compacted changelog topics of our tables: their key format and their creation.

Keys are JSON-encoded strings, the format Faust wrote for tables keyed by ``str``,
so a changelog a Faust app wrote reads back unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaConnectionError,
    NodeNotReadyError,
    RequestTimedOutError,
    TopicAlreadyExistsError,
)

from schemas.kafka_security import KafkaConnection, kafka_client_options


def changelog_key(key: str) -> bytes:
    return json.dumps(key).encode()


def key_of(changelog_key: bytes) -> str:
    return str(json.loads(changelog_key))


# How long a process keeps asking for its changelog topic while the broker settles.
CREATE_WITHIN_SECONDS = 20.0


async def ensure_compacted(
    kafka: KafkaConnection | str, topic: str, partitions: int, replication: int
) -> None:
    """Creates the topic (compacted) unless it exists; partitioned like its input topic.

    A broker that has just started can answer metadata without a controller, and
    aiokafka's admin client then fails with an AttributeError instead of waiting: that
    and the retriable Kafka errors are tried again with a fresh client for a while.
    """
    new = NewTopic(topic, partitions, replication, topic_configs={"cleanup.policy": "compact"})
    deadline = time.monotonic() + CREATE_WITHIN_SECONDS
    while True:
        admin = AIOKafkaAdminClient(**kafka_client_options(kafka))
        try:
            await admin.start()
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([new])
            return
        except (AttributeError, KafkaConnectionError, NodeNotReadyError, RequestTimedOutError):
            if time.monotonic() > deadline:
                raise
        finally:
            await admin.close()
        await asyncio.sleep(0.5)
