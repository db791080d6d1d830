"""`wavestack checksum`: per table counts and digests, equal for two models of one log."""

from __future__ import annotations

import json

import asyncpg

from projections.catchup import catch_up
from projections.checksum import checksum
from projections.kafka import log_ends
from tests.integration.operator.cli_support import wavestack
from tests.integration.projections.projection_support import (
    drop_schemas_like,
    produce_workload,
    projector_running,
    wait_caught_up,
)
from wavestack.settings import Settings


async def test_checksum_of_a_second_model_of_the_same_log_matches_table_by_table(
    settings: Settings, db: asyncpg.Connection
) -> None:
    await produce_workload(settings, items=12)
    async with projector_running(settings):
        await wait_caught_up(settings, db)
    other = f"{settings.db_schema}_copy"
    ends = await log_ends(settings.kafka_bootstrap, settings.topics)
    await catch_up(settings, schema=other, until=ends, start={})
    try:
        live = await wavestack(settings, "checksum", "--json")
        copy = await wavestack(settings, "checksum", "--json", "--schema", other)

        assert live.code == 0 and copy.code == 0, live.stderr + copy.stderr
        live_sum, copy_sum = json.loads(live.stdout), json.loads(copy.stdout)
        assert (
            live_sum["checksum"] == copy_sum["checksum"] == await checksum(db, settings.db_schema)
        )
        assert live_sum["tables"] == copy_sum["tables"]
        rows = {t["table"]: t["rows"] for t in live_sum["tables"]}
        assert rows["queue_items"] == 12
        assert rows["events"] == await db.fetchval("SELECT count(*) FROM events")
        assert "projection_state" not in rows  # epochs count operator actions

        await db.execute(f"UPDATE \"{other}\".queue_items SET title = 'changed' WHERE true")
        changed = json.loads(
            (await wavestack(settings, "checksum", "--json", "--schema", other)).stdout
        )
        differ = [
            a["table"]
            for a, b in zip(live_sum["tables"], changed["tables"], strict=True)
            if a["digest"] != b["digest"]
        ]
        assert differ == ["queue_items"]
        assert changed["checksum"] != live_sum["checksum"]

        text = await wavestack(settings, "checksum")
        assert text.code == 0
        line = next(x for x in text.stdout.splitlines() if x.startswith("queue_items "))
        assert line.split()[1:] == ["12", rows_digest(live_sum, "queue_items")]
        assert f"{live_sum['checksum']}  (schema {settings.db_schema})" in text.stdout
    finally:
        await drop_schemas_like(db, settings.db_schema)


def rows_digest(summary: dict[str, object], table: str) -> str:
    tables = summary["tables"]
    assert isinstance(tables, list)
    return str(next(t["digest"] for t in tables if t["table"] == table))


async def test_checksum_of_a_missing_schema_is_a_clear_error(settings: Settings) -> None:
    run = await wavestack(settings, "checksum", "--schema", "no_such_schema")

    assert run.code == 2
    assert run.stderr == "wavestack: schema 'no_such_schema' does not exist\n"
