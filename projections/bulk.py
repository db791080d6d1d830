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
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from projections import indexes, positions
from projections.apply import Poison, handlers_for, parse
from projections.config import CONSUMER_NAME, PROJECTION, ProjectorSettings
from projections.db import connect, quote_ident
from projections.deadletter import DeadLetters, durable_producer, source_of
from projections.handlers.audit import event_row
from projections.kafka import BULK_FETCH_BYTES, new_consumer
from projections.merge import TopicKind, copy_rows
from projections.positions import Positions
from projections.progress import ProgressCallback, ProgressMeter
from projections.tables import EVENT_COLUMNS, FOLDED, Row, Table

log = structlog.get_logger(__name__)

EVENT_CHUNK = 20_000  # audit rows per COPY while the log streams by
POLL_RECORDS = 20_000


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
        settings.kafka_bootstrap, None, POLL_RECORDS, partition_fetch_bytes=BULK_FETCH_BYTES
    )
    producer = durable_producer(settings.kafka_bootstrap)
    loader = _Loader(conn, side, schema, DeadLetters(producer, settings.topics.dlq, CONSUMER_NAME))
    kinds: dict[str, TopicKind] = {
        settings.topics.events: "events",
        settings.topics.commands: "commands",
    }
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
        # What retention left on the log, not the end offsets: the ETA must not lie.
        meter = ProgressMeter(sum(end - firsts[tp] for tp, end in wanted.items()), progress)
        while wanted:
            if stop.is_set():
                raise BulkStopped
            batch = await consumer.getmany(timeout_ms=500, max_records=POLL_RECORDS)
            for tp, records in batch.items():
                end = wanted.get(tp, 0)
                for record in records:
                    if record.offset >= end:
                        break
                    await loader.take(kinds[tp.topic], record)
            for tp in list(wanted):
                if await consumer.position(tp) >= wanted[tp]:
                    del wanted[tp]
            await loader.flush_events(EVENT_CHUNK)
            meter.update(loader.result.records)
        await loader.finish(deferred)
        meter.update(loader.result.records, force=True)
        return loader.result
    finally:
        if collecting:
            gc.enable()
        await loader.cancel()
        with contextlib.suppress(Exception):
            await consumer.stop()
        with contextlib.suppress(Exception):
            await producer.stop()
        await conn.close()
        await side.close()


class _Loader:
    """Folds records into memory and writes the result; one COPY in flight at a time."""

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
        self._copying: asyncio.Task[None] | None = None

    async def take(self, kind: TopicKind, record: ConsumerRecord[bytes, bytes]) -> None:
        self.result.records += 1
        self.result.positions[TopicPartition(record.topic, record.partition)] = record.offset + 1
        parsed = parse(kind, record.value)
        if isinstance(parsed, Poison):
            source = source_of(record)
            log.warning("dead-lettering a record", reason=parsed.reason, source=source)
            await self._dead.send(record, parsed.reason)
            self.result.dead_lettered += 1
            return
        env = parsed.envelope
        for handler in handlers_for(kind, parsed):
            rows = self._rows[handler.table]
            key = handler.key(env)
            old = rows.get(key)
            new = handler.fold(old, parsed)
            if new is not old and new is not None:
                rows[key] = new
        if kind == "events" and env.id not in self._seen:
            self._seen.add(env.id)  # the first copy of an event id wins, as live
            self._events.append(event_row(env))

    async def flush_events(self, at_least: int) -> None:
        """COPYs the waiting audit rows once there are ``at_least``, in the background:
        the server writes one chunk while this process decodes the next."""
        if len(self._events) < max(at_least, 1):
            return
        await self._wait()
        chunk, self._events = self._events, []
        self._events_written += len(chunk)
        self._copying = asyncio.create_task(
            copy_rows(self._conn, "events", EVENT_COLUMNS, chunk, schema=self._schema)
        )

    async def finish(self, deferred: list[indexes.Deferred]) -> None:
        """The last audit rows, the folded rows, the positions, then keys, indexes and
        statistics: the audit index's on the side session while the rest is COPYed."""
        await self.flush_events(0)
        await self._wait()
        self.result.rows["events"] = self._events_written
        audit_keys = asyncio.create_task(
            indexes.put_back(self._side, [d for d in deferred if d.table == "events"])
        )
        try:
            await self._copy_folded()
            await indexes.put_back(self._conn, [d for d in deferred if d.table != "events"])
        finally:
            await audit_keys
        await positions.ensure_state(self._conn, PROJECTION)
        await positions.save(self._conn, PROJECTION, self.result.positions)
        # Statistics for the readers right after the swap (autovacuum comes later).
        for name in [*(t.name for t in self._rows), "events"]:
            await self._conn.execute(f"ANALYZE {quote_ident(self._schema)}.{quote_ident(name)}")

    async def _copy_folded(self) -> None:
        for table, rows in self._rows.items():
            records = [table.values(row) for row in rows.values()]
            rows.clear()  # the memory goes back before the index builds
            await copy_rows(self._conn, table.name, table.columns, records, schema=self._schema)
            self.result.rows[table.name] = len(records)

    async def cancel(self) -> None:
        if self._copying is not None:
            self._copying.cancel()
            with contextlib.suppress(BaseException):
                await self._copying

    async def _wait(self) -> None:
        if self._copying is not None:
            task, self._copying = self._copying, None
            await task
