"""`wavestack rebuild --until-time T --schema NAME`: the model as the log stood at T."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from projections.checksum import checksum
from tests.integration.operator.cli_support import wavestack
from tests.integration.projections.projection_support import (
    cancelled,
    drop_schemas_like,
    enqueued,
    produce_events,
    projector_running,
    wait_caught_up,
)
from wavestack.settings import Settings


@pytest.mark.slow  # five CLI runs, two bulk loads: about 20 s
async def test_a_point_in_time_model_holds_what_the_log_held_then_and_leaves_live_alone(
    settings: Settings, db: asyncpg.Connection
) -> None:
    early, late = uuid.uuid4(), uuid.uuid4()
    await produce_events(settings, [enqueued(early)])
    await asyncio.sleep(0.05)
    then = datetime.now(UTC)
    await asyncio.sleep(0.05)
    await produce_events(settings, [cancelled(early, 2), enqueued(late)])
    async with projector_running(settings):
        await wait_caught_up(settings, db)
    live_before = await checksum(db, settings.db_schema)
    past, now = f"{settings.db_schema}_then", f"{settings.db_schema}_now"
    try:
        run = await wavestack(
            settings, "rebuild", "--until-time", then.isoformat(), "--schema", past
        )
        assert run.code == 0, run.stderr
        assert f"built {past} as of {then.isoformat()} from 1 records" in run.stdout
        rows = await db.fetch(f'SELECT id, status FROM "{past}".queue_items')
        assert [(r["id"], r["status"]) for r in rows] == [(early, "scheduled")]
        assert await checksum(db, settings.db_schema) == live_before
        live_rows = await db.fetch("SELECT id, status FROM queue_items ORDER BY status")
        assert {(r["id"], r["status"]) for r in live_rows} == {
            (early, "cancelled"),
            (late, "scheduled"),
        }

        # As of now: the whole log, the same content as the live model.
        current = await wavestack(
            settings, "rebuild", "--until-time", datetime.now(UTC).isoformat(), "--schema", now
        )
        assert current.code == 0, current.stderr
        assert await checksum(db, now) == live_before

        taken = await wavestack(
            settings, "rebuild", "--until-time", then.isoformat(), "--schema", past
        )
        assert taken.code == 2 and "already exists" in taken.stderr
        live = await wavestack(
            settings, "rebuild", "--until-time", then.isoformat(), "--schema", settings.db_schema
        )
        assert live.code == 2 and "is the live read model" in live.stderr
        half = await wavestack(settings, "rebuild", "--schema", past)
        assert half.code == 2 and "--until-time T and --schema NAME" in half.stderr
    finally:
        await drop_schemas_like(db, settings.db_schema)
