"""The command producer: started lazily, so the API runs (and recovers) while Kafka is down."""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, KafkaTimeoutError, RequestTimedOutError

from api.backends.errors import Unavailable
from schemas.kafka_security import KafkaConnection, connection_of, kafka_client_options
from schemas.partitioning import partition_for

log = structlog.get_logger(__name__)

DEPENDENCY = "kafka"
# How long one request may wait for Kafka in total: bounded, so a dead broker means a
# quick 503 and never a hung request.
CONNECT_TIMEOUT_S = 3.0
PRODUCE_TIMEOUT_S = 5.0
CHECK_TIMEOUT_S = 2.0
# After a failed start, requests answer 503 at once for this long instead of each one
# trying (and waiting) again.
RETRY_START_AFTER_S = 1.0


class CommandProducer:
    """One aiokafka producer (acks=all, idempotent), created on first use."""

    def __init__(self, kafka: KafkaConnection | str, *, client_id: str = "wavestack-api") -> None:
        self._kafka = connection_of(kafka)
        self._bootstrap = self._kafka.bootstrap
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._next_start = 0.0

    async def started(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        async with self._lock:
            if self._producer is not None:
                return self._producer
            if time.monotonic() < self._next_start:
                raise Unavailable(DEPENDENCY, "Kafka is unreachable")
            producer = AIOKafkaProducer(
                **kafka_client_options(self._kafka),
                client_id=self._client_id,
                acks="all",
                enable_idempotence=True,
                request_timeout_ms=15000,
                linger_ms=0,
                partitioner=partition_for,  # Kafka's partitions, hashed faster
            )
            try:
                await asyncio.wait_for(producer.start(), CONNECT_TIMEOUT_S)
            except (KafkaError, OSError, TimeoutError) as exc:
                self._next_start = time.monotonic() + RETRY_START_AFTER_S
                with contextlib.suppress(Exception):
                    await producer.stop()
                log.warning(
                    "kafka producer could not start", bootstrap=self._bootstrap, error=repr(exc)
                )
                raise Unavailable(
                    DEPENDENCY, f"Kafka is unreachable ({type(exc).__name__})"
                ) from exc
            self._producer = producer
            log.info("kafka producer started", bootstrap=self._bootstrap)
            return producer

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        """Writes one message with acks=all, or raises Unavailable within PRODUCE_TIMEOUT_S."""
        producer = await self.started()
        deadline = time.monotonic() + PRODUCE_TIMEOUT_S
        for attempt in (1, 2):
            remaining = deadline - time.monotonic()
            try:
                # asyncio.timeout, not wait_for: no extra task per request.
                async with asyncio.timeout(remaining):
                    delivered = await producer.send(topic, value, key=key)
                    await delivered
                return
            except (KafkaTimeoutError, RequestTimedOutError) as exc:
                # "Maybe written". Re-sending is safe here because the message carries
                # its own deterministic command id: a second copy is the same command,
                # which the decider answers identically. Only a *regenerated* message
                # would be unsafe to send twice.
                if attempt == 2 or remaining <= 0:
                    raise Unavailable(DEPENDENCY, "Kafka did not confirm the write") from exc
            except TimeoutError as exc:
                raise Unavailable(DEPENDENCY, "Kafka did not confirm the write in time") from exc
            except KafkaError as exc:
                raise Unavailable(DEPENDENCY, f"Kafka refused the write ({exc})") from exc

    async def check(self) -> None:
        """Raises Unavailable unless a broker answers a metadata request now."""
        producer = await self.started()
        try:
            await asyncio.wait_for(producer.client.fetch_all_metadata(), CHECK_TIMEOUT_S)
        except (KafkaError, OSError, TimeoutError) as exc:
            raise Unavailable(DEPENDENCY, "no Kafka broker answers") from exc

    async def close(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            # Bounded: with Kafka gone, flushing pending batches could wait forever.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), PRODUCE_TIMEOUT_S)
