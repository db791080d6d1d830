"""Producing a batch with an aiokafka producer, under the rules of ``streams.runtime.sending``.

Sizes are checked before anything is sent, a batch is retried whole until Kafka has
all of it (our batches are deterministic, so a re-send after a "maybe written"
timeout only makes copies consumers drop by id), and what Kafka will never take is
``SendRefused``. Two ways to hand the batch over: ``produce`` one ``send`` per
record, ``produce_batched`` whole record batches (``streams.runtime.batches``),
cheaper per record for a process that sends many at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata

from streams.runtime.batches import send_batched
from streams.runtime.sending import (
    MAX_BACKOFF_SECONDS,
    PERMANENT,
    DeadLetters,
    Outgoing,
    SendRefused,
    check_sizes,
)


async def send_once(producer: AIOKafkaProducer, batch: Sequence[Outgoing]) -> list[RecordMetadata]:
    """One try: hands the batch over in order, then waits for every ack."""
    check_sizes(batch)
    try:
        acks = [
            await producer.send(
                m.topic, m.value, key=m.key, partition=m.partition, headers=m.headers
            )
            for m in batch
        ]
    except PERMANENT as exc:
        raise SendRefused(repr(exc)) from exc
    try:
        return list(await asyncio.gather(*acks))
    except PERMANENT as exc:
        raise SendRefused(repr(exc)) from exc


T = TypeVar("T")


async def _until_sent(
    attempt: Callable[[], Awaitable[T]], bound: Any, on_retry: Callable[[], None] | None = None
) -> T:
    """``attempt`` again, backing off, until Kafka has the batch; SendRefused as is."""
    delay = 0.5
    while True:
        try:
            return await attempt()
        except KafkaError as exc:
            if on_retry is not None:
                on_retry()
            bound.warning("produce_retry", error=repr(exc), delay=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)


async def produce(
    producer: AIOKafkaProducer,
    batch: Sequence[Outgoing],
    bound: Any,
    *,
    on_retry: Callable[[], None] | None = None,
) -> list[RecordMetadata]:
    """Produces every message and waits for all acks, retrying the batch until done.

    Raises SendRefused for errors Kafka will never get over.
    """
    return await _until_sent(lambda: send_once(producer, batch), bound, on_retry)


async def produce_batched(
    producer: AIOKafkaProducer, batch: Sequence[Outgoing], bound: Any, *, checked: bool = False
) -> dict[TopicPartition, int]:
    """``produce`` in whole record batches, one per partition (order kept within each,
    the only order Kafka has); the offset of the last record written to each partition.
    ``checked``: the sizes were checked already."""
    if not checked:
        check_sizes(batch)

    async def attempt() -> dict[TopicPartition, int]:
        try:
            return await send_batched(producer, batch)
        except PERMANENT as exc:
            raise SendRefused(repr(exc)) from exc

    return await _until_sent(attempt, bound)


async def send_dead_letters(
    dead_letters: DeadLetters, producer: AIOKafkaProducer, batch: Sequence[Outgoing], bound: Any
) -> None:
    """``DeadLetters.send`` for an aiokafka producer: one Kafka refuses is only logged."""
    try:
        await produce(producer, batch, bound)
    except SendRefused:
        # Not even the DLQ takes it: the log line and the metric are all that is left.
        bound.error("dead_letter_refused", consumer=dead_letters.consumer)
