"""What every process sends, what Kafka will never take, and the one dead-letter routine.

Every process sends deterministic batches (same ids, same bytes on a re-send), so a
re-send after a "maybe written" timeout only makes copies that consumers drop by id.
The sending itself is ``streams.runtime.producing`` (a batch, retried whole) and
``streams.runtime.batches`` (whole record batches per partition).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from aiokafka.errors import (
    CorruptRecordException,
    InvalidTopicError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from schemas.dlq import dlq_headers
from streams import metrics
from streams.runtime.app import MAX_REQUEST_BYTES

log = structlog.get_logger("streams.runtime.sending")

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
    """What agents read of a consumed message (aiokafka's records, the decider's Record)."""

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


# Slots: made for every record a process sends (several per command in the decider),
# and a frozen dataclass without them takes about twice as long to build.
@dataclass(frozen=True, slots=True)
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


class DeadLetters:
    """The one dead-letter routine: a message's bytes unchanged, the reason in headers.

    ``streams.runtime.producing.send_dead_letters`` sends what ``letter`` made.
    """

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


class _Rounds:
    """Many tasks asking for the same kind of round trip, served one round at a time.

    A caller arriving while no round is pending starts one; everyone who arrives before
    that round begins joins it and returns when it ends (sharing its error); the next
    round waits for the previous one, so what a caller handed in earlier is never
    overtaken. With many tasks at once (the publisher's attempts) that is one round trip
    per round instead of one per caller.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._pending: asyncio.Future[None] | None = None
        self._rounds: set[asyncio.Task[None]] = set()

    async def _join(self) -> None:
        if self._pending is None:
            self._pending = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._round(self._pending))
            self._rounds.add(task)
            task.add_done_callback(self._rounds.discard)
        await asyncio.shield(self._pending)

    async def _round(self, done: asyncio.Future[None]) -> None:
        async with self._lock:  # the previous round may still be running
            self._pending = None  # who arrives from now on needs the next round
            try:
                await self._run()
            except asyncio.CancelledError:
                done.cancel()
                raise
            except Exception as exc:
                done.set_exception(exc)
            else:
                done.set_result(None)

    async def _run(self) -> None:
        raise NotImplementedError


class SharedFlush(_Rounds):
    """One producer flush for everyone who asks while it is being prepared.

    Callers need "everything I handed to the producer before calling is on the log":
    a flush started after a caller arrived covers it.
    """

    def __init__(self, flush: Callable[[], Awaitable[Any]]) -> None:
        super().__init__()
        self._flush = flush

    async def __call__(self) -> None:
        await self._join()

    async def _run(self) -> None:
        await self._flush()


class SharedProduce(_Rounds):
    """One produce of everything the callers hand in while the round is prepared: each
    caller returns once its records are on the log (the attempts' result commands).

    ``produce`` gets records whose sizes were checked here: a record Kafka would refuse
    fails its own caller only.
    """

    def __init__(self, produce: Callable[[list[Outgoing], Any], Awaitable[Any]]) -> None:
        super().__init__()
        self._produce = produce
        self._batch: list[Outgoing] = []

    async def __call__(self, messages: Sequence[Outgoing]) -> None:
        check_sizes(messages)
        self._batch.extend(messages)
        await self._join()

    async def _run(self) -> None:
        # Taken in one step: who arrives from now on is in the next round.
        batch, self._batch = self._batch, []
        await self._produce(batch, log.bind(records=len(batch)))
