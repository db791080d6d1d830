"""Asset and clip rows survive rebuild and replay: same checksum as the live model."""

from __future__ import annotations

import asyncpg
import pytest

from projections import migrate
from projections.checksum import checksum
from projections.handlers import EVENT_HANDLERS
from projections.rebuild import rebuild
from projections.replay import replay
from tests.integration.projections.media_events import media_workload
from tests.integration.projections.projection_support import (
    drop_schemas_like,
    produce_events,
    produce_workload,
    projector_running,
    wait_caught_up,
)
from wavestack.settings import Settings

MEDIA_PREFIXES = ("asset.", "clip.")


async def statuses(db: asyncpg.Connection, table: str) -> dict[str, int]:
    rows = await db.fetch(f"SELECT status, count(*) AS n FROM {table} GROUP BY status")
    return {r["status"]: r["n"] for r in rows}


async def test_a_rebuild_with_asset_and_clip_events_in_the_log_has_the_live_checksum(
    settings: Settings, db: asyncpg.Connection
) -> None:
    await produce_workload(settings, items=10)
    await produce_events(settings, media_workload(clips=6))
    try:
        async with projector_running(settings):
            await wait_caught_up(settings, db)
            live_digest = await checksum(db, settings.db_schema)
            live_assets = await statuses(db, "assets")
            live_clips = await statuses(db, "clips")

        summary = await rebuild(settings, keep_old=False)

        # Two sources (one registered, one failed) and the outputs of two clips.
        assert live_assets == {"registered": 3, "failed": 1}
        assert live_clips == {"succeeded": 2, "failed": 2, "running": 2}
        assert summary.checksum == live_digest
        assert await checksum(db, settings.db_schema) == live_digest
        assert await statuses(db, "clips") == live_clips
    finally:
        await drop_schemas_like(db, settings.db_schema)


async def test_after_an_upgrade_a_replay_from_the_beginning_fills_in_assets_and_clips(
    settings: Settings, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A build without asset and clip handlers: no migration 003, no handlers for them.
    # The later migrations stay: the other handlers of this build write their columns.
    files = migrate.migration_files()
    without_media = [f for f in files if not f[0].startswith("003_")]
    await db.execute(f'DROP SCHEMA "{settings.db_schema}" CASCADE')
    with monkeypatch.context() as old_build:
        old_build.setattr(migrate, "migration_files", lambda: without_media)
        for event_type in [t for t in EVENT_HANDLERS if t.startswith(MEDIA_PREFIXES)]:
            old_build.delitem(EVENT_HANDLERS, event_type)
        await produce_workload(settings, items=10)
        await produce_events(settings, media_workload(clips=6))
        async with projector_running(settings):
            await wait_caught_up(settings, db)
        audited = await db.fetchval(
            "SELECT count(*) FROM events WHERE type LIKE 'asset.%' OR type LIKE 'clip.%'"
        )
        before = (
            await db.fetchval("SELECT count(*) FROM assets"),
            await db.fetchval("SELECT count(*) FROM clips"),
        )

    try:
        summary = await replay(settings, from_beginning=True)

        assert before == (0, 0)
        assert audited == len(media_workload(clips=6))
        assert summary.skipped == 0
        assert await statuses(db, "assets") == {"registered": 3, "failed": 1}
        assert await statuses(db, "clips") == {"succeeded": 2, "failed": 2, "running": 2}
        assert await db.fetchval("SELECT count(*) FROM schema_migrations") == len(files)
        # What the replay filled in is exactly what projecting the log from scratch gives.
        replayed = await checksum(db, settings.db_schema)
        assert (await rebuild(settings, keep_old=False)).checksum == replayed
    finally:
        await drop_schemas_like(db, settings.db_schema)
