"""Rebuild: project the whole log into a fresh schema beside the live one, then swap.

1. ``<live>_rebuild_<ts>`` is created and migrated, and the log up to the end
   offsets of that moment is bulk-loaded into it (projections/bulk.py: the same
   folds as the live projector, in memory, written with COPY, indexes built after),
   while the live schema keeps serving and the live projector keeps running.
2. What arrived meanwhile goes in through the projector's normal path.
3. In one transaction: the live projection_state rows are locked (the live
   projector now waits at its next batch), the same projector, clients already
   open, catches up with the last few records, the epochs are bumped in both
   schemas, and the schemas are renamed:
   live -> ``<live>_old_<ts>``, rebuild -> live. Readers see the old model until the
   commit and the new one after it, never a mix of tables.
4. The live projector's waiting batch sees the bumped epoch, rolls back, opens a
   fresh session and continues from the rebuilt schema's positions (the rebuild
   writes positions under the live projection name, so they are the live ones now).

Trap: ``ALTER SCHEMA ... RENAME`` does not wait for transactions that use the
schema. A transaction open across the swap resolves names again at each statement
and can write half into the old schema and half into the new one; that is why the
swap first locks the rows every projector batch locks first. Plain reads are safe:
PostgreSQL invalidates cached plans on a schema rename, so prepared statements of
other sessions (asyncpg's statement cache, the API pool) resolve to the new tables
at their next execution. A read *transaction* spanning the swap may see both.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import structlog
from aiokafka import TopicPartition

from projections import bulk
from projections.apply import POISON_ERRORS
from projections.bulk import BulkResult
from projections.catchup import catch_up
from projections.checksum import checksum
from projections.config import PROJECTION, ProjectorSettings
from projections.db import MAX_IDENTIFIER, connect, quote_ident
from projections.kafka import log_ends
from projections.migrate import migrate
from projections.progress import ProgressCallback
from projections.projector import Projector

log = structlog.get_logger(__name__)


class RebuildInterrupted(RuntimeError):
    """Stopped before the swap (or never started): the live schema is untouched."""


@dataclass(frozen=True)
class RebuildSummary:
    schema: str
    old_schema: str | None  # None when dropped
    records: int
    dead_lettered: int
    seconds: float
    checksum: str
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds


def rebuild_names(live: str, stamp: str) -> tuple[str, str]:
    """(rebuild schema, name the live schema is moved to)."""
    fresh, old = f"{live}_rebuild_{stamp}", f"{live}_old_{stamp}"
    if len(fresh) > MAX_IDENTIFIER:
        raise ValueError(
            f"schema name {live!r} is too long to rebuild beside ({fresh!r} exceeds "
            f"{MAX_IDENTIFIER} characters)"
        )
    return fresh, old


async def rebuild(
    settings: ProjectorSettings,
    *,
    keep_old: bool = True,
    progress: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
    now: datetime | None = None,
) -> RebuildSummary:
    started = time.monotonic()
    phases = _Phases()
    stop = stop or asyncio.Event()
    live = settings.db_schema
    fresh, old = rebuild_names(live, (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S"))
    admin = await connect(settings.dsn, live, purpose=f"rebuild-{live}")
    try:
        taken = await admin.fetchval(
            "SELECT string_agg(nspname, ', ') FROM pg_namespace WHERE nspname IN ($1, $2)",
            fresh,
            old,
        )
        if taken:
            raise RebuildInterrupted(f"schema {taken} already exists; drop it or retry later")
        await migrate(admin, live)  # so there is a live schema, state table included, to swap
        await migrate(admin, fresh)
        ends = await log_ends(settings.kafka, settings.topics)
        phases.done("prepare")
        loaded = await _load(settings, admin, fresh, ends, progress, stop)
        records, dead = loaded.records, loaded.dead_lettered
        phases.done("bulk load")
        # The tail that arrived meanwhile, through the live projector's own path, first
        # without the lock; then, with the live projector held at its next batch, the
        # last few records, by a projector whose clients are already open.
        tail = Projector(
            settings, schema=fresh, until=ends, migrate_schema=False, partitions=list(ends)
        )
        try:
            await tail.open(stop)
            tail.extend(await tail.end_offsets())
            await tail.drain(stop)
            if stop.is_set():
                raise RebuildInterrupted(f"rebuild interrupted; {fresh} is left for inspection")
            phases.done("tail")
            async with admin.transaction():
                epochs = await _lock_live(admin, live)
                tail.extend(await tail.end_offsets())
                await tail.drain(stop)
                if stop.is_set():
                    raise RebuildInterrupted(f"rebuild interrupted; {fresh} is left for inspection")
                await _swap(admin, live, fresh, old, epochs)
            phases.done("locked catch-up and swap")
        finally:
            await tail.close()
        records += tail.stats.records
        dead += tail.stats.dead_lettered
        kept: str | None = old
        if not keep_old:
            await admin.execute(f"DROP SCHEMA {quote_ident(old)} CASCADE")
            kept = None
        phases.done("drop old")
        digest = await checksum(admin, live)
        phases.done("checksum")
    finally:
        await admin.close()
    return RebuildSummary(
        schema=live,
        old_schema=kept,
        records=records,
        dead_lettered=dead,
        seconds=time.monotonic() - started,
        checksum=digest,
        phases=phases.seconds,
    )


class _Phases:
    """How long each step took, for the summary (operators and the benchmark read it)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.monotonic()

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = now - self._last
        self._last = now


async def _load(
    settings: ProjectorSettings,
    admin: asyncpg.Connection,
    fresh: str,
    ends: dict[TopicPartition, int],
    progress: ProgressCallback | None,
    stop: asyncio.Event,
) -> BulkResult:
    """The bulk load; if the database refuses a record in it (a value PostgreSQL cannot
    store), the whole load again through the projector, which dead-letters just that one."""
    try:
        return await bulk.load(settings, fresh, ends, progress=progress, stop=stop)
    except bulk.BulkStopped:
        raise RebuildInterrupted(f"rebuild interrupted; {fresh} is left for inspection") from None
    except POISON_ERRORS as exc:
        log.warning("bulk load refused a record: projecting record by record", error=repr(exc))
    await admin.execute(f"DROP SCHEMA {quote_ident(fresh)} CASCADE")
    await migrate(admin, fresh)
    stats = await catch_up(
        settings,
        schema=fresh,
        until=ends,
        start={},
        progress=progress,
        stop=stop,
        migrate_schema=False,
    )
    if stop.is_set():
        raise RebuildInterrupted(f"rebuild interrupted; {fresh} is left for inspection")
    return BulkResult(records=stats.records, dead_lettered=stats.dead_lettered)


async def _lock_live(conn: asyncpg.Connection, live: str) -> dict[str, int]:
    """Locks every live projection's state row: their batches wait from now on."""
    # The row must exist to be locked: a projector starting right now would create it.
    await conn.execute(
        f"INSERT INTO {quote_ident(live)}.projection_state (projection) VALUES ($1)"
        " ON CONFLICT DO NOTHING",
        PROJECTION,
    )
    rows = await conn.fetch(
        f"SELECT projection, epoch FROM {quote_ident(live)}.projection_state FOR UPDATE"
    )
    return {r["projection"]: r["epoch"] for r in rows}


async def _swap(
    conn: asyncpg.Connection, live: str, fresh: str, old: str, epochs: dict[str, int]
) -> None:
    # Every epoch moves past anything a running projector holds: the one waiting
    # on the old row sees it change, the one that reads the new schema too.
    for name, current in epochs.items():
        epoch = current + 1
        await conn.execute(
            f"UPDATE {quote_ident(live)}.projection_state SET epoch = $2 WHERE projection = $1",
            name,
            epoch,
        )
        await conn.execute(
            f"INSERT INTO {quote_ident(fresh)}.projection_state (projection, epoch) VALUES ($1, $2)"
            " ON CONFLICT (projection) DO UPDATE SET epoch = EXCLUDED.epoch",
            name,
            epoch,
        )
    await conn.execute(f"ALTER SCHEMA {quote_ident(live)} RENAME TO {quote_ident(old)}")
    await conn.execute(f"ALTER SCHEMA {quote_ident(fresh)} RENAME TO {quote_ident(live)}")
