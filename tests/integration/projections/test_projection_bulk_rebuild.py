"""The rebuild's bulk load: several events per aggregate folded in memory equal the live rows."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from projections.checksum import checksum
from projections.kafka import log_ends
from projections.rebuild import rebuild
from schemas.codec import encode
from schemas.envelope import Envelope
from tests.integration.projections.media_events import media_workload
from tests.integration.projections.projection_support import (
    T0,
    cancelled,
    drop_schemas_like,
    enqueue_command,
    enqueued,
    outcome,
    produce_commands,
    produce_events,
    project_created,
    projector_running,
    read_topic,
    rescheduled,
    stored_positions,
    wait_caught_up,
)
from wavestack.settings import Settings


async def index_definitions(db: asyncpg.Connection, schema: str) -> set[str]:
    rows = await db.fetch(
        "SELECT replace(indexdef, quote_ident($1) || '.', '') AS ddl FROM pg_indexes"
        " WHERE schemaname = $1",
        schema,
    )
    found = {r["ddl"] for r in rows}
    assert len(found) >= 25  # keys and indexes of every table
    return found


def histories(items: int) -> tuple[list[Envelope], list[Envelope]]:
    """(commands, events): every item enqueued, some moved twice, some then cancelled,
    some cancelled first and moved after (the move is refused by the guard: the row
    holds sequence 3 already), outcomes before and after their commands' records."""
    commands: list[Envelope] = []
    events: list[Envelope] = []
    for n in range(items):
        item = uuid.uuid4()
        command = enqueue_command(uuid.uuid5(item, "enqueue"), item, occurred_at=T0)
        created = enqueued(item, command_id=command.command_id)
        commands.append(command)
        events += [created, outcome(command, [created.id])]
        events.append(created)  # re-emitted after a decider restart: same id, applied once
        if n % 2 == 0:
            events += [
                rescheduled(item, 2, T0 + timedelta(days=2)),
                rescheduled(item, 3, T0 + timedelta(days=3 + n)),
            ]
        if n % 3 == 0:
            events.append(cancelled(item, 4 if n % 2 == 0 else 2))
    events.append(project_created(uuid.uuid4(), "Launch"))
    return commands, events + media_workload(clips=6)


async def test_a_bulk_rebuild_of_many_events_per_aggregate_equals_the_live_model(
    settings: Settings, db: asyncpg.Connection
) -> None:
    commands, events = histories(60)
    await produce_events(settings, events[: len(events) // 2])  # outcomes before commands too
    await produce_commands(settings, commands)
    await produce_events(settings, events[len(events) // 2 :])
    try:
        async with projector_running(settings):
            await wait_caught_up(settings, db)
            live = await checksum(db, settings.db_schema)
            live_rows = await db.fetch(
                "SELECT id, status, version, schedule_at FROM queue_items ORDER BY id"
            )
            live_commands = await db.fetch("SELECT * FROM commands ORDER BY command_id")

        summary = await rebuild(settings, keep_old=True)

        assert summary.checksum == live
        assert summary.old_schema is not None
        assert summary.records == len(commands) + len(events)
        assert (
            await db.fetch("SELECT id, status, version, schedule_at FROM queue_items ORDER BY id")
            == live_rows
        )
        statuses = {r["status"] for r in live_rows}
        assert statuses == {"scheduled", "cancelled"}
        assert {r["version"] for r in live_rows} == {1, 2, 3, 4}
        assert await db.fetch("SELECT * FROM commands ORDER BY command_id") == live_commands
        assert {r["outcome"] for r in live_commands} == {"applied"}
        assert await db.fetchval("SELECT count(*) FROM events") == len({e.id for e in events})
        assert await db.fetchval("SELECT count(*) FROM clips WHERE status = 'succeeded'") == 2
        # The rebuilt schema has every key and index back, as migrations made them.
        assert await index_definitions(db, settings.db_schema) == await index_definitions(
            db, summary.old_schema
        )
        ends = await log_ends(settings.kafka_bootstrap, settings.topics)
        assert await stored_positions(db) == {tp: end for tp, end in ends.items() if end > 0}
    finally:
        await drop_schemas_like(db, settings.db_schema)


async def test_a_record_the_database_refuses_in_the_bulk_load_is_dead_lettered_once_rebuilt(
    settings: Settings, db: asyncpg.Connection
) -> None:
    good = [uuid.uuid4() for _ in range(5)]
    refused = enqueued(uuid.uuid4(), title="nul\x00byte")  # valid JSON, not PostgreSQL text
    await produce_events(settings, [enqueued(i) for i in good] + [refused])
    try:
        async with projector_running(settings):
            await wait_caught_up(settings, db)
            live = await checksum(db, settings.db_schema)

        # The COPY fails on it, so the rebuild goes through the projector's path instead.
        summary = await rebuild(settings, keep_old=False)

        assert summary.checksum == live
        assert summary.dead_lettered == 1
        assert await db.fetchval("SELECT count(*) FROM queue_items") == len(good)
        letters = await read_topic(settings, settings.topics.dlq, at_least=2)
        assert len(letters) == 2  # the live projector's and the rebuild's
        assert {letter.value for letter in letters} == {encode(refused)}
    finally:
        await drop_schemas_like(db, settings.db_schema)
