"""Publishing rows survive a rebuild: the bulk load folds them to the live checksum."""

from __future__ import annotations

import asyncpg

from projections.checksum import checksum
from projections.rebuild import rebuild
from tests.integration.projections.projection_support import (
    drop_schemas_like,
    produce_events,
    produce_workload,
    projector_running,
    wait_caught_up,
)
from tests.integration.projections.publishing_events import every_event, lifecycles
from wavestack.settings import Settings


async def counts(db: asyncpg.Connection) -> dict[str, int]:
    return {
        table: await db.fetchval(f"SELECT count(*) FROM {table}")
        for table in ("publish_attempts", "post_rows", "posts", "connections")
    }


async def statuses(db: asyncpg.Connection) -> dict[str, int]:
    rows = await db.fetch("SELECT status, count(*) AS n FROM queue_items GROUP BY status")
    return {r["status"]: r["n"] for r in rows}


async def test_a_rebuild_with_publishing_events_in_the_log_has_the_live_checksum(
    settings: Settings, db: asyncpg.Connection
) -> None:
    await produce_workload(settings, items=9)
    # Two organizations' histories, so partitions interleave them differently.
    await produce_events(settings, every_event(lifecycles()) + every_event(lifecycles("org-b")))
    try:
        async with projector_running(settings):
            await wait_caught_up(settings, db)
            live_digest = await checksum(db, settings.db_schema)
            live_counts = await counts(db)
            live_statuses = await statuses(db)

        summary = await rebuild(settings, keep_old=False)

        assert live_counts == {
            "publish_attempts": 14,
            "post_rows": 4,
            "posts": 4,
            "connections": 4,
        }
        assert live_statuses["published"] == 4
        assert live_statuses["unconfirmed"] == 2
        assert summary.checksum == live_digest
        assert await checksum(db, settings.db_schema) == live_digest
        assert await counts(db) == live_counts
        assert await statuses(db) == live_statuses
    finally:
        await drop_schemas_like(db, settings.db_schema)
