"""Producing from inside an agent: wait for every ack, retry what Kafka may still take.

Shared by the decider and the event agents, so every agent sends, retries and
dead-letters the same way (docs/architecture.md, "Decider" and "Dead-letter queue").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import faust
from aiokafka.errors import (
    CorruptRecordException,
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from faust.exceptions import ProducerSendError

from schemas.dlq import dlq_headers
from streams.gaps import Consumed

# Kafka will never take these, however often we ask; anything else is retried.
PERMANENT = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    InvalidTopicError,
    CorruptRecordException,
)
MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class Outgoing:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] | None = None


class SendRefused(Exception):
    """Kafka refused a message for good (e.g. too large)."""


def dead_letter(message: Consumed, reason: str, dlq_topic: str, consumer: str) -> Outgoing:
    """The DLQ copy of a consumed message: its bytes unchanged, the reason in headers."""
    headers = dlq_headers(reason, message.topic, message.partition, message.offset, consumer)
    return Outgoing(dlq_topic, message.key, message.value, headers)


async def produce(
    app: faust.App,
    batch: Sequence[Outgoing],
    bound: Any,
    *,
    on_retry: Callable[[], None] | None = None,
) -> None:
    """Produces every message and waits for all acks; retries the batch until done.

    The batch must be deterministic (same ids, same bytes), so a re-send after a
    "maybe written" timeout only makes duplicates that consumers drop by id.
    Raises SendRefused for errors Kafka will never get over.
    """
    delay = 0.5
    while True:
        try:
            await send_once(app, batch)
            return
        except (KafkaError, ProducerSendError) as exc:
            # faust wraps what aiokafka raises at send(); the future raises it bare.
            cause = exc.__cause__ if isinstance(exc, ProducerSendError) else exc
            if isinstance(cause, PERMANENT):
                raise SendRefused(repr(cause)) from exc
            if on_retry is not None:
                on_retry()
            bound.warning("produce_retry", error=repr(exc), delay=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)


async def send_once(app: faust.App, batch: Sequence[Outgoing]) -> None:
    """One try: send in order, then wait for every ack (raises what Kafka raised)."""
    producer = await app.maybe_start_producer()
    pending = [await producer.send(m.topic, m.key, m.value, None, None, m.headers) for m in batch]
    await asyncio.gather(*pending)
