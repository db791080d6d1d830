"""Producing from inside an agent, and the one way every agent dead-letters a message.

Every agent sends deterministic batches (same ids, same bytes on a re-send), so a
re-send after a "maybe written" timeout only makes copies that consumers drop by id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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
from streams import metrics
from streams.runtime.app import MAX_REQUEST_BYTES

# Kafka will never take these, however often we ask; anything else is retried.
PERMANENT = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    InvalidTopicError,
    CorruptRecordException,
)
MAX_BACKOFF_SECONDS = 30.0
# Every event the decider writes carries its message type in this header, so a
# consumer can pass over the types it does not handle without parsing them.
TYPE_HEADER = "type"
# What a record costs beyond its key, value and headers in a produce request
# (batch and record headers); generous, so a record we pass is one Kafka takes.
RECORD_OVERHEAD_BYTES = 512


class Consumed(Protocol):
    """What agents read of a consumed message (faust's Message and our Record both)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> float: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


@dataclass(frozen=True)
class Outgoing:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] | None = None
    # None: the producer's partitioner picks by key (a changelog names its partition).
    partition: int | None = None

    @property
    def size(self) -> int:
        headers = sum(len(k) + len(v) for k, v in self.headers or ())
        return len(self.key or b"") + len(self.value or b"") + headers + RECORD_OVERHEAD_BYTES


class SendRefused(Exception):
    """Kafka refused a message for good (e.g. too large)."""


def check_sizes(batch: Sequence[Outgoing]) -> None:
    """Refuses the whole batch before any of it is sent, if Kafka would refuse a part.

    A decision is all its messages or none: sending the first event and then finding
    the second too large would leave half a decision on the log.
    """
    for message in batch:
        if message.size > MAX_REQUEST_BYTES:
            raise SendRefused(f"a message of {message.size} bytes is over {MAX_REQUEST_BYTES}")


async def enqueue(app: faust.App, batch: Sequence[Outgoing]) -> list[Awaitable[Any]]:
    """Hands the batch to the producer in order; returns the acks to wait for.

    Raises SendRefused (nothing sent) when Kafka could never take the batch.
    """
    check_sizes(batch)
    producer = await app.maybe_start_producer()
    try:
        return [
            await producer.send(m.topic, m.key, m.value, m.partition, None, m.headers)
            for m in batch
        ]
    except (KafkaError, ProducerSendError) as exc:
        cause = exc.__cause__ if isinstance(exc, ProducerSendError) else exc
        if isinstance(cause, PERMANENT):
            raise SendRefused(repr(cause)) from exc
        raise


async def send_once(app: faust.App, batch: Sequence[Outgoing]) -> None:
    """One try: send in order, then wait for every ack (raises what Kafka raised)."""
    await asyncio.gather(*await enqueue(app, batch))


async def produce(
    app: faust.App,
    batch: Sequence[Outgoing],
    bound: Any,
    *,
    on_retry: Callable[[], None] | None = None,
) -> None:
    """Produces every message and waits for all acks; retries the batch until done.

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


class DeadLetters:
    """The one dead-letter routine: a message's bytes unchanged, the reason in headers."""

    def __init__(self, dlq_topic: str, consumer: str) -> None:
        self.topic = dlq_topic
        self.consumer = consumer

    def letter(self, message: Consumed, reason: str, cause: str, bound: Any) -> Outgoing:
        """The DLQ copy of ``message``; logs and counts it (``cause``: poison, error, refused)."""
        bound.warning("message_dead_lettered", reason=reason, cause=cause, consumer=self.consumer)
        metrics.DEAD_LETTERS.labels(self.consumer, cause).inc()
        headers = dlq_headers(
            reason, message.topic, message.partition, message.offset, self.consumer
        )
        return Outgoing(self.topic, message.key, message.value, headers)

    async def send(self, app: faust.App, batch: Sequence[Outgoing], bound: Any) -> None:
        """Produces a dead-letter batch and waits for it; one Kafka refuses is only logged."""
        try:
            await produce(app, batch, bound)
        except SendRefused:
            # Not even the DLQ takes it (too large for any topic): the log line and the
            # metric are all that is left; the offset must move on.
            bound.error("dead_letter_refused", consumer=self.consumer)


class SharedFlush:
    """One producer flush for everyone who asks while it is being prepared.

    Callers need "everything I handed to the producer before calling is on the log".
    A flush started after a caller arrived covers it; so callers arriving while no
    flush is pending start a new round, and everyone who arrives before that round's
    flush begins waits for it. With many tasks flushing at once (the publisher's
    attempts), the producer is flushed once per round instead of once per caller,
    each flush waiting for all the others' messages.
    """

    def __init__(self, flush: Callable[[], Awaitable[Any]]) -> None:
        self._flush = flush
        self._lock = asyncio.Lock()
        self._pending: asyncio.Future[None] | None = None
        self._rounds: set[asyncio.Task[None]] = set()

    async def __call__(self) -> None:
        if self._pending is None:
            self._pending = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._round(self._pending))
            self._rounds.add(task)
            task.add_done_callback(self._rounds.discard)
        await asyncio.shield(self._pending)

    async def _round(self, done: asyncio.Future[None]) -> None:
        async with self._lock:  # the previous round's flush may still be running
            self._pending = None  # who arrives from now on needs the next round
            try:
                await self._flush()
            except asyncio.CancelledError:
                done.cancel()
                raise
            except Exception as exc:
                done.set_exception(exc)
            else:
                done.set_result(None)
