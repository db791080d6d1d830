"""The rebuild's bulk load: the whole log folded in memory, written with COPY.

The rebuild schema is new and nobody reads it until the swap, so nothing has to be
written record by record: every record is decoded once and folded by the same
handlers the live projector runs (projections/handlers), the audit index is COPYed
in chunks as it streams by, and the folded rows of every other table are COPYed
once at the end, before the secondary indexes are built (a sort per index instead
of a b-tree insert per row). The positions written with them are the offset after
the last record read per partition, exactly what the live projector stores.

Memory: the folded rows of every aggregate table stay in memory until the end
(about 1.5 KB per row in Python: ~1.5 GB for a log of 1M aggregates: 500k queue
items plus their 500k command rows; fine on a machine with a few GiB free), plus
the seen event ids (~100 bytes each) and at most two audit chunks of
``EVENT_CHUNK`` rows. A log with far more aggregates than memory allows would need
a spill to disk here; the live projector's path has no such bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from projections import indexes, positions
from projections.apply import Poison, handlers_for, parse
from projections.batch import Batch
from projections.config import CONSUMER_NAME, PROJECTION, ProjectorSettings
from projections.db import connect, quote_ident
from projections.deadletter import DeadLetters, durable_producer, source_of
from projections.handlers import Handler
from projections.handlers.audit import event_row
from projections.kafka import BULK_FETCH_BYTES, new_consumer
from projections.merge import TopicKind
from projections.positions import Positions
from projections.progress import ProgressCallback, ProgressMeter
from projections.tables import COMMANDS, EVENT_COLUMNS, FOLDED, Row, Table

log = structlog.get_logger(__name__)

EVENT_CHUNK = 20_000  # audit rows per COPY while the log streams by
POLL_RECORDS = 20_000
READ_AHEAD = 3  # batches of up to POLL_RECORDS records taken off the consumer early


class BulkStopped(Exception):
    """``stop`` was set during the load: the rebuild schema is incomplete."""


@dataclass
class BulkResult:
    positions: Positions = field(default_factory=dict)
    records: int = 0
    dead_lettered: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows written


async def load(
    settings: ProjectorSettings,
    schema: str,
    ends: Mapping[TopicPartition, int],
    *,
    progress: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
) -> BulkResult:
    """Projects every record below ``ends`` into the (freshly migrated, empty) schema."""
    stop = stop or asyncio.Event()
    conn = await connect(settings.dsn, schema, purpose=f"rebuild-load-{schema}")
    # A second session builds the audit index's keys while the first COPYs the rest.
    side = await connect(settings.dsn, schema, purpose=f"rebuild-index-{schema}")
    consumer = new_consumer(
        settings.kafka, None, POLL_RECORDS, partition_fetch_bytes=BULK_FETCH_BYTES
    )
    producer = durable_producer(settings.kafka)
    loader = _Loader(conn, side, schema, DeadLetters(producer, settings.topics.dlq, CONSUMER_NAME))
    kinds: dict[str, TopicKind] = {
        settings.topics.events: "events",
        settings.topics.commands: "commands",
    }
    reading: asyncio.Task[None] | None = None
    collecting = gc.isenabled()
    # The fold holds millions of long-lived objects (no cycles): each run of the cyclic
    # collector would walk them all again, several times a second. Reference counting
    # still frees everything that is dropped.
    gc.disable()
    try:
        for session in (conn, side):
            await session.execute("SET maintenance_work_mem = '256MB'")
        deferred = await indexes.take_off(conn, schema, [*(t.name for t in FOLDED), "events"])
        await producer.start()
        await consumer.start()
        wanted = {tp: end for tp, end in ends.items() if end > 0}
        firsts: dict[TopicPartition, int] = {}
        if wanted:
            consumer.assign(list(wanted))
            firsts = await consumer.beginning_offsets(list(wanted))
            for tp, first in firsts.items():
                consumer.seek(tp, first)
        batches: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=READ_AHEAD)
        # What retention left on the log, not the end offsets: the ETA must not lie.
        meter = ProgressMeter(sum(end - firsts[tp] for tp, end in wanted.items()), progress)
        reading = asyncio.create_task(_read_ahead(consumer, dict(wanted), batches))
        ends_of = dict(wanted)
        while (batch := await batches.get()) is not None:
            if stop.is_set():
                raise BulkStopped
            for tp, records in batch.items():
                end, kind = ends_of.get(tp, 0), kinds[tp.topic]
                last = None
                for record in records:
                    if record.offset >= end:
                        break
                    await loader.take(kind, record)
                    last = record.offset
                if last is not None:
                    loader.result.positions[tp] = last + 1
            await loader.flush_events(EVENT_CHUNK)
            meter.update(loader.result.records)
        await reading
        await loader.finish(deferred)
        meter.update(loader.result.records, force=True)
        return loader.result
    finally:
        if collecting:
            gc.enable()
        if reading is not None:
            reading.cancel()
            with contextlib.suppress(BaseException):
                await reading
        await loader.cancel()
        with contextlib.suppress(Exception):
            await consumer.stop()
        with contextlib.suppress(Exception):
            await producer.stop()
        await conn.close()
        await side.close()


async def _read_ahead(
    consumer: AIOKafkaConsumer,
    wanted: dict[TopicPartition, int],
    out: asyncio.Queue[Batch | None],
) -> None:
    """Takes fetched records off the consumer as soon as they arrive: aiokafka fetches a
    partition again only once its buffer is drained, so draining it early keeps the
    broker busy while the fold works. None marks the end, also when reading fails (the
    reader's task then raises it to whoever awaits it, instead of the fold waiting
    forever for a batch)."""
    try:
        while wanted:
            batch = await consumer.getmany(timeout_ms=500, max_records=POLL_RECORDS)
            if batch:
                await out.put(batch)
            for tp in list(wanted):
                if await consumer.position(tp) >= wanted[tp]:
                    del wanted[tp]
    finally:
        await out.put(None)


class _Loader:
    """Folds records into memory and writes the result through two sessions (lanes):
    one COPY in flight per lane, so two server processes write while this one decodes."""

    def __init__(
        self, conn: asyncpg.Connection, side: asyncpg.Connection, schema: str, dead: DeadLetters
    ) -> None:
        self.result = BulkResult()
        self._conn = conn
        self._side = side
        self._schema = schema
        self._dead = dead
        self._rows: dict[Table, dict[Hashable, Row]] = {t: {} for t in FOLDED}
        self._events: list[tuple[Any, ...]] = []
        self._seen: set[Any] = set()
        self._events_written = 0
        self._lanes = (conn, side)
        self._copying: list[asyncio.Task[None] | None] = [None, None]
        self._turn = 0
        self._routes: dict[tuple[TopicKind, str], tuple[Handler, ...]] = {}

    async def take(self, kind: TopicKind, record: ConsumerRecord[bytes, bytes]) -> None:
        self.result.records += 1  # the caller moves the partition's position past it
        parsed = parse(kind, record.value)
        if isinstance(parsed, Poison):
            source = source_of(record)
            log.warning("dead-lettering a record", reason=parsed.reason, source=source)
            await self._dead.send(record, parsed.reason)
            self.result.dead_lettered += 1
            return
        env = parsed.envelope
        route = self._routes.get((kind, env.type))
        if route is None:
            route = self._routes[(kind, env.type)] = tuple(handlers_for(kind, parsed))
        for handler in route:
            rows = self._rows[handler.table]
            key = handler.key(env)
            old = rows.get(key)
            new = handler.fold(old, parsed)
            if new is not old and new is not None:
                rows[key] = new
        if kind == "events" and env.id not in self._seen:
            self._seen.add(env.id)  # the first copy of an event id wins, as live
            self._events.append(event_row(env, (record.topic, record.partition, record.offset)))

    async def flush_events(self, at_least: int) -> None:
        """COPYs the waiting audit rows once there are ``at_least``, in the background
        on the next lane (waiting for that lane's previous chunk first). ``position``
        follows the order chunks reach the server: arrival order, as everywhere."""
        if len(self._events) < max(at_least, 1):
            return
        lane, self._turn = self._turn, 1 - self._turn
        await self._wait(lane)
        chunk, self._events = self._events, []
        self._events_written += len(chunk)
        self._copying[lane] = asyncio.create_task(
            copy_rows(self._lanes[lane], "events", EVENT_COLUMNS, chunk, schema=self._schema)
        )

    async def finish(self, deferred: list[indexes.Deferred]) -> None:
        """The last audit rows, the folded rows, the positions, then keys, indexes and
        statistics. The side lane takes the commands and the audit index's keys, the
        main lane the other tables: two server processes build at once."""
        await self.flush_events(0)
        await self._wait(0)
        await self._wait(1)
        self.result.rows["events"] = self._events_written
        side = {COMMANDS.name, "events"}
        main = [t for t in self._rows if t.name not in side]
        lanes = [
            self._fill(self._side, [COMMANDS], ["events"], deferred),
            self._fill(self._conn, main, [], deferred),
        ]
        results = await asyncio.gather(*lanes, return_exceptions=True)
        for outcome in results:
            if isinstance(outcome, BaseException):
                raise outcome
        await positions.ensure_state(self._conn, PROJECTION)
        await positions.save(self._conn, PROJECTION, self.result.positions)
        # Statistics for the readers right after the swap (autovacuum comes later).
        for name in [*(t.name for t in self._rows), "events"]:
            await self._conn.execute(f"ANALYZE {quote_ident(self._schema)}.{quote_ident(name)}")

    async def _fill(
        self,
        conn: asyncpg.Connection,
        tables: list[Table],
        also_keys_of: list[str],
        deferred: list[indexes.Deferred],
    ) -> None:
        """COPYs the folded rows of ``tables``, then builds their keys (and others')."""
        for table in tables:
            rows = self._rows[table]
            records = [table.values(row) for row in rows.values()]
            rows.clear()  # the memory goes back before the index builds
            await copy_rows(conn, table.name, table.columns, records, schema=self._schema)
            self.result.rows[table.name] = len(records)
        names = {t.name for t in tables} | set(also_keys_of)
        await indexes.put_back(conn, [d for d in deferred if d.table in names])

    async def cancel(self) -> None:
        for lane, task in enumerate(self._copying):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
                self._copying[lane] = None

    async def _wait(self, lane: int) -> None:
        task, self._copying[lane] = self._copying[lane], None
        if task is not None:
            await task


async def copy_rows(
    conn: asyncpg.Connection,
    table: str,
    columns: Sequence[str],
    records: Sequence[tuple[Any, ...]],
    *,
    schema: str,
) -> None:
    """COPY, with a value asyncpg cannot encode reported as the DataError that a
    statement parameter would raise (e.g. an integer beyond int4): the record's fault."""
    try:
        await conn.copy_records_to_table(
            table, schema_name=schema, columns=list(columns), records=records
        )
    except (OverflowError, ValueError, TypeError) as exc:
        raise asyncpg.DataError(f"invalid value for {table}: {exc}") from exc
