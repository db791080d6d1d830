"""A point-in-time read model: the log as it stood at a time T, in a throwaway schema.

Per partition of the events and commands topics, the records before the first one
whose timestamp is after T (Kafka's offset-for-time look-up), bulk-loaded into a new
schema exactly as a rebuild loads the whole log (projections/bulk.py). The cut is a
prefix of each partition, so the model is one the live projector could have held;
the live schema and its positions are never touched, and nothing is ever swapped.
Record timestamps are the producers' clocks at append time (occurred_at of events
is set by the same processes at about the same moment).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

from aiokafka import TopicPartition

from projections import bulk
from projections.apply import POISON_ERRORS
from projections.catchup import catch_up
from projections.checksum import checksum
from projections.config import ProjectorSettings
from projections.db import MAX_IDENTIFIER, connect, quote_ident
from projections.kafka import log_ends_and_times
from projections.migrate import migrate
from projections.progress import ProgressCallback


class PointInTimeRefused(ValueError):
    """The schema can't be used (the live one, taken, too long): nothing was written."""


@dataclass(frozen=True)
class PointInTimeSummary:
    schema: str
    until: datetime
    records: int
    dead_lettered: int
    seconds: float
    checksum: str
    cut: dict[TopicPartition, int]  # per partition: records below this offset are in


def cut_offsets(
    ends: dict[TopicPartition, int], after: dict[TopicPartition, int | None]
) -> dict[TopicPartition, int]:
    """Per partition the first offset past T, or the end when nothing is past T."""
    cut: dict[TopicPartition, int] = {}
    for tp, end in ends.items():
        first_after = after.get(tp)
        cut[tp] = end if first_after is None else first_after
    return cut


async def build_as_of(
    settings: ProjectorSettings,
    schema: str,
    until: datetime,
    *,
    progress: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
) -> PointInTimeSummary:
    started = time.monotonic()
    if schema == settings.db_schema:
        raise PointInTimeRefused(f"{schema!r} is the live read model; name another schema")
    if len(schema) > MAX_IDENTIFIER:
        raise PointInTimeRefused(f"schema name {schema!r} is longer than {MAX_IDENTIFIER}")
    admin = await connect(settings.dsn, schema, purpose=f"as-of-{schema}")
    try:
        if await admin.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema):
            raise PointInTimeRefused(f"schema {schema!r} already exists; drop it or name another")
        await migrate(admin, schema)
        # Kafka timestamps are milliseconds: everything stamped at or before T's
        # millisecond is in.
        after_ms = int(until.timestamp() * 1000) + 1
        ends, after = await log_ends_and_times(settings.kafka, settings.topics, after_ms)
        cut = cut_offsets(ends, after)
        try:
            loaded = await bulk.load(settings, schema, cut, progress=progress, stop=stop)
            records, dead = loaded.records, loaded.dead_lettered
        except POISON_ERRORS:
            # A value PostgreSQL refuses: record by record, the projector dead-letters it.
            await admin.execute(f"DROP SCHEMA {quote_ident(schema)} CASCADE")
            await migrate(admin, schema)
            stats = await catch_up(
                settings,
                schema=schema,
                until=cut,
                start={},
                progress=progress,
                stop=stop,
                migrate_schema=False,
            )
            records, dead = stats.records, stats.dead_lettered
        digest = await checksum(admin, schema)
    finally:
        await admin.close()
    return PointInTimeSummary(
        schema=schema,
        until=until,
        records=records,
        dead_lettered=dead,
        seconds=time.monotonic() - started,
        checksum=digest,
        cut=cut,
    )
