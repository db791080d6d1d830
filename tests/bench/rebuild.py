"""Rebuild and projector throughput on a large log, next to raw aiokafka + COPY.

(a) the raw limit: an aiokafka consumer reading the whole events topic (bytes only,
    no decoding), plus ``copy_records_to_table`` of the rebuild's final rows into a
    freshly migrated, empty schema (same DDL: keys and indexes in place);
(b) ``projections.rebuild.rebuild`` over the same topic (what `wavestack rebuild`
    runs: bulk load, tail, swap, checksum);
(c) the live projector's steady rate on a backlog, in a topic set of its own.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer

from projections.db import connect
from projections.kafka import BULK_FETCH_BYTES, log_ends
from projections.migrate import migrate
from projections.projector import Projector
from projections.rebuild import rebuild
from projections.tables import EVENT_COLUMNS, FOLDED
from tests.bench import eventlog
from wavestack.settings import Settings

REBUILD_EVENTS = int(os.environ.get("BENCH_REBUILD_EVENTS", 1_000_000))
BACKLOG_EVENTS = int(os.environ.get("BENCH_BACKLOG_EVENTS", 200_000))
TIMEOUT_S = 600.0  # any one phase; the whole section takes a few minutes


async def raw_consume(settings: Settings) -> tuple[int, float]:
    """(records, seconds) for a bare consumer reading the events topic to its end."""
    ends = {
        tp: end
        for tp, end in (await log_ends(settings.kafka_bootstrap, settings.topics)).items()
        if tp.topic == settings.topics.events and end > 0
    }
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        max_partition_fetch_bytes=BULK_FETCH_BYTES,
    )
    started = time.monotonic()
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        count, size = 0, 0
        while ends:
            for tp, batch in (await consumer.getmany(timeout_ms=500, max_records=20_000)).items():
                count += len(batch)
                size += sum(len(r.value or b"") for r in batch)
                if batch and batch[-1].offset + 1 >= ends.get(tp, 0):
                    ends.pop(tp, None)
        return count, time.monotonic() - started
    finally:
        await consumer.stop()


async def raw_copy(settings: Settings, target: str) -> tuple[int, float]:
    """(rows, seconds) to COPY the rebuilt schema's rows into a fresh, migrated one."""
    conn = await connect(settings.dsn, settings.db_schema, purpose="bench-raw-copy")
    try:
        await migrate(conn, target)
        tables = [(t.name, list(t.columns)) for t in FOLDED] + [("events", list(EVENT_COLUMNS))]
        rows = {
            name: [tuple(r) for r in await conn.fetch(f"SELECT {', '.join(cols)} FROM {name}")]
            for name, cols in tables
        }
        started = time.monotonic()
        for name, cols in tables:
            await conn.copy_records_to_table(
                name, schema_name=target, columns=cols, records=rows[name]
            )
        seconds = time.monotonic() - started
        return sum(map(len, rows.values())), seconds
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{target}" CASCADE')
        await conn.close()


async def steady_projector(settings: Settings, events: int) -> dict[str, Any]:
    """The live projector (consumer group, default batch size) through a backlog."""
    write_s = await eventlog.write(
        settings.kafka_bootstrap, settings.topics.events, eventlog.shape_for(events)
    )
    stop = asyncio.Event()
    # Measured from the first committed batch on: joining the consumer group (the
    # broker's initial rebalance delay) is start-up, not throughput.
    # Records applied, not read: after a rebalance the same records come again, skipped.
    marks: list[tuple[float, int]] = []
    projector = Projector(
        settings,
        on_batch=lambda stats: marks.append((time.monotonic(), stats.applied + stats.audited)),
    )
    started = time.monotonic()
    task = asyncio.create_task(projector.run(stop))
    conn = await asyncpg.connect(settings.dsn)
    try:
        deadline = started + TIMEOUT_S
        while (marks[-1][1] if marks else 0) < events and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        count = await conn.fetchval(f'SELECT count(*) FROM "{settings.db_schema}".events')
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
        await conn.close()
    (first_at, first_records), (last_at, last_records) = marks[0], marks[-1]
    return {
        "backlog events": events,
        "backlog written s": write_s,
        "projector start-up s": first_at - started,
        "projector events/s": (last_records - first_records) / (last_at - first_at),
        "projector batches": projector.stats.batches,
        "projector redelivered (skipped)": projector.stats.skipped,
        "projector audit rows": count,
    }


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(fresh: Callable[[], AbstractAsyncContextManager[Settings]]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    async with fresh() as settings:
        shape = eventlog.shape_for(REBUILD_EVENTS)
        figures["events on the log"] = shape.events
        figures["log written s"] = await eventlog.write(
            settings.kafka_bootstrap, settings.topics.events, shape
        )
        # The raw read before the rebuild and the raw COPY after it: on a shared machine
        # the two sides then see the same neighbours, more or less.
        consumed, consume_s = await raw_consume(settings)
        summary = await asyncio.wait_for(rebuild(settings, keep_old=False), TIMEOUT_S)
        figures["rebuild s"] = summary.seconds
        figures.update({f"  {name} s": s for name, s in summary.phases.items()})
        figures["rebuild events/s"] = summary.records / summary.seconds
        figures["max RSS MiB (rebuild)"] = _max_rss_mib()
        copied, copy_s = await raw_copy(settings, settings.db_schema + "_raw")
        raw_s = consume_s + copy_s
        figures["raw consume s"] = consume_s
        figures["raw COPY s"] = copy_s
        figures["raw rows copied"] = copied
        figures["raw events/s"] = consumed / raw_s
        figures["rebuild ratio vs raw"] = (summary.records / summary.seconds) / (consumed / raw_s)
    async with fresh() as settings:
        figures.update(await steady_projector(settings, BACKLOG_EVENTS))
    return figures
