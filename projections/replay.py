"""Replay: move a projection's positions back and project the log again up to its end.

Replaying into the same schema is idempotent: the audit index is keyed by event id,
creations are ``INSERT ... ON CONFLICT DO NOTHING``, changes apply only when the
event's sequence is above the row's ``version``, a decided command is never changed
again, and first-seen/requested times only move earlier. So a replay re-applies
nothing that is already there; it fills in what is missing (rows of an event type
that gained a handler, rows deleted by hand). To recompute rows that exist but are
wrong (a handler bug), use rebuild.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

from aiokafka import TopicPartition

from projections import positions
from projections.catchup import catch_up
from projections.config import PROJECTION, PROJECTIONS, ProjectorSettings
from projections.db import connect
from projections.kafka import log_ends_and_times
from projections.migrate import migrate
from projections.positions import Positions
from projections.progress import ProgressCallback


@dataclass(frozen=True)
class ReplaySummary:
    projection: str
    schema: str
    records: int
    applied: int
    skipped: int
    dead_lettered: int
    seconds: float


def rewind(stored: Positions, targets: dict[TopicPartition, int | None]) -> Positions:
    """The positions to replay from: never later than where the projection stands.

    A time after a partition's stored position must not move it forward (that would
    skip records never applied); a partition with no record at or after the time
    (None) keeps its position; an unknown partition already starts at the beginning.
    """
    rewound: Positions = {}
    for tp, current in stored.items():
        target = targets.get(tp)
        rewound[tp] = current if target is None else min(current, target)
    return rewound


async def replay(
    settings: ProjectorSettings,
    projection: str = PROJECTION,
    *,
    from_beginning: bool = False,
    from_time: datetime | None = None,
    progress: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
) -> ReplaySummary:
    """Resets the positions, then projects until the end offsets captured at the start.

    A live projector may keep running: the epoch bump makes it re-read the reset
    positions at its next batch, and the per-batch row lock plus the offset fence
    let both work through the same records without applying any twice.
    """
    if from_beginning == (from_time is not None):
        raise ValueError("give exactly one of from_beginning or from_time")
    if projection not in PROJECTIONS:
        raise ValueError(
            f"unknown projection {projection!r} (known: {', '.join(sorted(PROJECTIONS))})"
        )
    started = time.monotonic()
    schema = settings.db_schema
    at_ms = int(from_time.timestamp() * 1000) if from_time is not None else None
    until, targets = await log_ends_and_times(settings.kafka, settings.topics, at_ms)
    conn = await connect(settings.dsn, schema, purpose=f"replay-{schema}")
    try:
        await migrate(conn, schema)
        async with conn.transaction():
            await positions.ensure_state(conn, projection)
            await positions.lock_epoch(conn, projection)  # waits for a batch in flight
            if from_time is None:
                start: Positions = {}
                await positions.forget(conn, projection)
            else:
                start = rewind(await positions.load(conn, projection), targets)
                await positions.save(conn, projection, start)
            await positions.bump_epoch(conn, projection)
    finally:
        await conn.close()
    stats = await catch_up(
        settings,
        schema=schema,
        until=until,
        start=start,
        projection=projection,
        progress=progress,
        stop=stop,
        migrate_schema=False,  # migrated above
    )
    return ReplaySummary(
        projection=projection,
        schema=schema,
        records=stats.records,
        applied=stats.applied + stats.audited,
        skipped=stats.skipped,
        dead_lettered=stats.dead_lettered,
        seconds=time.monotonic() - started,
    )
