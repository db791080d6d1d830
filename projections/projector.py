"""The projector: <p>.events and <p>.commands into one PostgreSQL read-model schema."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Mapping

import asyncpg
import structlog
from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from probes import health
from projections import positions
from projections.batch import Batch, BatchWriter, EpochChanged, RunStats
from projections.config import CONSUMER_NAME, PROJECTION, ProjectorSettings
from projections.db import connect
from projections.deadletter import DeadLetters, durable_producer
from projections.kafka import new_consumer, partitions_of, projection_topics
from projections.merge import TopicKind
from projections.metrics import BATCH_SECONDS, LAG, RECORDS, RETRIES
from projections.migrate import migrate

log = structlog.get_logger(__name__)

MAX_BACKOFF = 30.0


class Projector:
    """Applies the log to a read-model schema, exactly once per schema.

    Contract: a batch's rows and the positions after it commit in one transaction
    (a crash loses or doubles nothing); a record whose offset is below the stored
    position is skipped, so a redelivery never applies twice; a poison record is in
    the DLQ before the batch that skips it commits; a transient failure (database
    or broker down) is retried with backoff and never dead-letters anything.

    With ``until`` (end offsets) the projector reads every partition itself and
    returns once it has reached them (replay, rebuild); without, it shares the
    partitions with its peers through a consumer group and runs until ``stop``.
    """

    def __init__(
        self,
        settings: ProjectorSettings,
        *,
        schema: str | None = None,
        projection: str = PROJECTION,
        until: Mapping[TopicPartition, int] | None = None,
        on_batch: Callable[[RunStats], None] | None = None,
        max_records: int = 5000,
        poll_timeout_ms: int = 100,
        session_timeout_ms: int = 10_000,
        migrate_schema: bool = True,
        partitions: list[TopicPartition] | None = None,
    ) -> None:
        self.schema = schema or settings.db_schema
        self.projection = projection
        self.stats = RunStats()
        self._settings = settings
        self._until = dict(until) if until is not None else None
        self._on_batch = on_batch
        self._max_records = max_records
        self._poll_timeout_ms = poll_timeout_ms
        self._kinds: dict[str, TopicKind] = {
            settings.topics.events: "events",
            settings.topics.commands: "commands",
        }
        group = None if until is not None else f"{settings.topics.prefix}.projector.{self.schema}"
        self._consumer = new_consumer(
            settings.kafka, group, max_records, session_timeout_ms=session_timeout_ms
        )
        self._producer = durable_producer(settings.kafka)
        self._log = log.bind(projection=projection, schema=self.schema)
        self._writer = BatchWriter(
            projection,
            self._kinds,
            DeadLetters(self._producer, settings.topics.dlq, CONSUMER_NAME),
            self._log,
        )
        # Serialises the database connection between the batch loop and the
        # rebalance listener, and makes a revocation wait for the batch in flight.
        self._lock = asyncio.Lock()
        self._conn: asyncpg.Connection | None = None
        self._epoch = 0
        self._needs_resync = True
        self._failures = 0
        self._migrate = migrate_schema  # False: the caller has just migrated it
        self._partitions = partitions  # bounded runs: known already, no look-up
        self._started = False

    async def run(self, stop: asyncio.Event) -> RunStats:
        try:
            await self.open(stop)
            return await self.drain(stop)
        finally:
            await self.close()

    def extend(self, until: Mapping[TopicPartition, int]) -> None:
        """Moves a bounded run's ends (the rebuild's last catch-up, clients kept open)."""
        assert self._until is not None, "only a bounded run has ends"
        self._until = dict(until)

    async def end_offsets(self) -> dict[TopicPartition, int]:
        """The end offsets of a bounded run's partitions, through its own consumer."""
        ends: dict[TopicPartition, int] = await self._consumer.end_offsets(
            list(self._consumer.assignment())
        )
        return ends

    async def drain(self, stop: asyncio.Event) -> RunStats:
        """Projects until ``stop`` (or, bounded, until the ends); the clients stay open."""
        await self.open(stop)
        while not stop.is_set():
            if self._needs_resync and not await self._resync(stop):
                continue
            try:
                batch = await self._consumer.getmany(
                    timeout_ms=self._poll_timeout_ms, max_records=self._max_records
                )
            except KafkaError as exc:
                await self._fail(exc, stop)
                continue
            health.recovered(health.KAFKA_UNREACHABLE)
            if self._needs_resync:
                continue  # the assignment changed while fetching: positions first
            if batch:
                await self._process(batch, stop)
            if self._until is not None and not self._needs_resync and await self._caught_up():
                break
        return self.stats

    async def open(self, stop: asyncio.Event) -> None:
        """Connects, migrates (unless told not to) and starts the Kafka clients, once."""
        if self._started:
            return
        while True:
            try:
                conn = await self._connection()
                if self._migrate:
                    await migrate(conn, self.schema)
                break
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                if stop.is_set():
                    raise
                await self._fail(exc, stop)
        await self._producer.start()
        await self._consumer.start()
        topics = projection_topics(self._settings.topics)
        if self._until is None:
            self._consumer.subscribe(topics, listener=_Listener(self))
            health.watch_group(self._consumer)
        else:
            tps = self._partitions or await partitions_of(self._settings.kafka, topics)
            self._consumer.assign(tps)
        self._started = True
        self._log.info("projector started", group=self._until is None)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._consumer.stop()
        with contextlib.suppress(Exception):
            await self._producer.stop()
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=5)
        self._log.info("projector stopped", **vars(self.stats))

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._conn = await connect(
                self._settings.dsn, self.schema, purpose=f"projector-{self.schema}"
            )
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.terminate()  # close() could wait on a server that is gone
            self._conn = None

    async def _resync(self, stop: asyncio.Event) -> bool:
        """Re-reads epoch and positions and seeks every assigned partition to them."""
        try:
            async with self._lock:
                conn = await self._connection()
                self._epoch = await positions.ensure_state(conn, self.projection)
                await self._seek(
                    self._consumer.assignment(), await positions.load(conn, self.projection)
                )
        except Exception as exc:
            await self._fail(exc, stop)
            return False
        self._needs_resync = False
        health.recovered(health.POSTGRES_UNREACHABLE)
        return True

    async def _seek(self, tps: set[TopicPartition], stored: positions.Positions) -> None:
        # Plain seeks to offsets looked up first: seek_to_beginning() resets lazily
        # and can rewind a partition again after its first records were returned.
        unknown = [tp for tp in tps if tp not in stored]
        beginnings = await self._consumer.beginning_offsets(unknown) if unknown else {}
        for tp in tps:
            self._consumer.seek(tp, stored[tp] if tp in stored else beginnings[tp])

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        try:
            async with self._lock:
                conn = await self._connection()
                await self._seek(assigned, await positions.load(conn, self.projection))
            health.assigned(assigned)
        except Exception as exc:
            # The main loop retries; until then nothing is applied from a wrong position.
            self._log.warning("could not seek on assignment", error=repr(exc))
            self._needs_resync = True
        self._log.info(
            "partitions assigned",
            partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned),
        )

    async def on_revoked(self) -> None:
        health.rebalancing()
        async with self._lock:
            pass  # the batch in flight has committed; the next owner reads its positions

    async def _process(self, batch: Batch, stop: asyncio.Event) -> None:
        started = time.monotonic()
        try:
            async with self._lock:
                conn = await self._connection()
                done, tally = await self._writer.write(conn, batch, self._epoch)
        except EpochChanged:
            self._log.info("positions moved by an operator: re-reading them")
            self._drop_connection()  # a fresh session: nothing cached from before a swap
            self._needs_resync = True
            return
        except Exception as exc:
            await self._fail(exc, stop)
            return
        self._failures = 0
        health.recovered()
        self.stats.add(done)
        for (kind, result), count in tally.items():
            RECORDS.labels(self.projection, kind, result).inc(count)
        BATCH_SECONDS.labels(self.projection).observe(time.monotonic() - started)
        for tp, records in batch.items():
            highwater = self._consumer.highwater(tp)
            if highwater is not None and records:
                LAG.labels(self.projection, self._kinds[tp.topic], str(tp.partition)).set(
                    max(highwater - records[-1].offset - 1, 0)
                )
        if self._on_batch is not None:
            self._on_batch(self.stats)

    async def _fail(self, exc: BaseException, stop: asyncio.Event) -> None:
        self._failures += 1
        self.stats.retries += 1
        RETRIES.labels(self.projection).inc()
        delay = min(0.25 * 2 ** (self._failures - 1), MAX_BACKOFF)
        expected = isinstance(
            exc, OSError | asyncpg.PostgresError | asyncpg.InterfaceError | KafkaError
        )
        health.failing(_unreachable(exc), repr(exc))
        self._log.warning(
            "transient failure: positions kept, retrying",
            error=repr(exc),
            retry_in=delay,
            exc_info=None if expected else exc,
        )
        self._drop_connection()
        self._needs_resync = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    async def _caught_up(self) -> bool:
        assert self._until is not None
        for tp, end in self._until.items():
            if await self._consumer.position(tp) < end:
                return False
        return True


def _unreachable(exc: BaseException) -> str:
    """The readiness probe's reason for a failure the projector retries."""
    if isinstance(exc, KafkaError):
        return health.KAFKA_UNREACHABLE
    if isinstance(exc, OSError | asyncpg.PostgresError | asyncpg.InterfaceError):
        return health.POSTGRES_UNREACHABLE
    return health.FAILING


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, projector: Projector) -> None:
        self._projector = projector

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._projector.on_revoked()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._projector.on_assigned(assigned)


async def serve(
    settings: ProjectorSettings,
    *,
    session_timeout_ms: int = 10_000,
) -> RunStats:
    """Runs the live projector until SIGTERM or SIGINT; the batch in flight completes."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    health.beat_on(loop)  # the liveness probe's heartbeat

    def stopping() -> None:
        health.stopping()
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping)
    try:
        return await Projector(settings, session_timeout_ms=session_timeout_ms).run(stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def main(
    settings: ProjectorSettings,
    *,
    session_timeout_ms: int = 10_000,
) -> None:
    """Entry point of `wavestack projector` (logging and metrics are the caller's)."""
    asyncio.run(serve(settings, session_timeout_ms=session_timeout_ms))
