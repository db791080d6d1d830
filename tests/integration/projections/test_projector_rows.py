"""The projector turns events and commands into read-model rows, once each."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import ClassVar

import asyncpg
import pytest

from projections.kafka import log_ends
from schemas.base import Event
from schemas.catalog import EVENT_TYPES
from schemas.ids import fingerprint
from tests.integration.projections.projection_support import (
    ORG,
    T0,
    cancelled,
    enqueue_command,
    enqueued,
    event,
    eventually,
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


async def test_items_projects_and_command_outcomes_appear_in_the_read_model(
    settings: Settings, db: asyncpg.Connection
) -> None:
    item, project, command_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    command = enqueue_command(command_id, item, occurred_at=T0)
    item_event = enqueued(item, command_id=command_id)
    await produce_commands(settings, [command])
    await produce_events(
        settings,
        [item_event, project_created(project, "Launch"), outcome(command, [item_event.id])],
    )

    async with projector_running(settings):
        await wait_caught_up(settings, db)

    row = await db.fetchrow("SELECT * FROM queue_items WHERE id = $1", item)
    assert row is not None
    assert (row["org_id"], row["status"], row["version"]) == (ORG, "scheduled", 1)
    assert row["schedule_at"] == T0 + timedelta(days=1)
    assert row["created_at"] == row["updated_at"] == item_event.occurred_at
    assert json.loads(row["target"]) == {"privacy": "public"}
    assert await db.fetchval("SELECT name FROM projects WHERE id = $1", project) == "Launch"
    cmd = await db.fetchrow("SELECT * FROM commands WHERE command_id = $1", command_id)
    assert cmd is not None
    assert cmd["outcome"] == "applied"
    assert cmd["event_ids"] == [item_event.id]
    assert cmd["fingerprint"] == fingerprint(command.type, command.data)
    assert cmd["requested_at"] == T0
    assert cmd["decided_at"] == T0 + timedelta(seconds=1)
    assert await db.fetchval("SELECT count(*) FROM events") == 3
    assert await db.fetchval("SELECT first_seen_at FROM organizations WHERE org_id = $1", ORG) == (
        T0 + timedelta(seconds=1)
    )
    ends = await log_ends(settings.kafka_bootstrap, settings.topics)
    assert await stored_positions(db) == {tp: end for tp, end in ends.items() if end > 0}


async def test_a_redelivered_event_is_applied_once(
    settings: Settings, db: asyncpg.Connection
) -> None:
    item = uuid.uuid4()
    first_move = rescheduled(item, 2, T0 + timedelta(days=2))
    last_move = rescheduled(item, 3, T0 + timedelta(days=3))
    # The decider re-emits a decision after a crash: the same ids and sequences again.
    await produce_events(
        settings, [enqueued(item), first_move, last_move, enqueued(item), first_move]
    )

    async with projector_running(settings):
        await wait_caught_up(settings, db)

    row = await db.fetchrow(
        "SELECT schedule_at, version, updated_at FROM queue_items WHERE id = $1", item
    )
    assert row is not None
    assert (row["schedule_at"], row["version"]) == (T0 + timedelta(days=3), 3)
    assert row["updated_at"] == last_move.occurred_at
    assert await db.fetchval("SELECT count(*) FROM events WHERE aggregate_id = $1", item) == 3


async def test_an_event_older_than_the_row_does_not_undo_a_newer_one(
    settings: Settings, db: asyncpg.Connection
) -> None:
    item = uuid.uuid4()
    await produce_events(
        settings,
        [enqueued(item), cancelled(item, 3), rescheduled(item, 2, T0 + timedelta(days=9))],
    )

    async with projector_running(settings):
        await wait_caught_up(settings, db)

    row = await db.fetchrow(
        "SELECT status, schedule_at, version FROM queue_items WHERE id = $1", item
    )
    assert row is not None
    assert (row["status"], row["version"]) == ("cancelled", 3)
    assert row["schedule_at"] == T0 + timedelta(days=1)


async def test_an_outcome_read_before_its_command_keeps_its_decision_and_learns_the_request_time(
    settings: Settings, db: asyncpg.Connection
) -> None:
    item, command_id = uuid.uuid4(), uuid.uuid4()
    command = enqueue_command(command_id, item, occurred_at=T0 - timedelta(minutes=1))
    retry = enqueue_command(command_id, item, occurred_at=T0 + timedelta(hours=1))
    item_event = enqueued(item, command_id=command_id)
    await produce_events(settings, [item_event, outcome(command, [item_event.id])])

    async with projector_running(settings):
        await wait_caught_up(settings, db)
        decided = await db.fetchrow("SELECT * FROM commands WHERE command_id = $1", command_id)
        await produce_commands(settings, [command, retry])
        await wait_caught_up(settings, db)

    assert decided is not None and decided["outcome"] == "applied"
    assert decided["requested_at"] == decided["decided_at"]  # until the command is read
    row = await db.fetchrow("SELECT * FROM commands WHERE command_id = $1", command_id)
    assert row is not None
    assert row["outcome"] == "applied"
    assert row["decided_at"] == decided["decided_at"]
    assert row["requested_at"] == T0 - timedelta(minutes=1)


class ThingProbed(Event):
    TYPE: ClassVar[str] = "thing.ThingProbed"
    AGGREGATE_TYPE: ClassVar[str] = "thing"

    note: str


@pytest.fixture
def event_type_without_handler() -> Iterator[type[Event]]:
    EVENT_TYPES[ThingProbed.TYPE] = ThingProbed
    yield ThingProbed
    EVENT_TYPES.pop(ThingProbed.TYPE)


async def test_a_known_event_type_without_a_handler_only_reaches_the_audit_index(
    settings: Settings, db: asyncpg.Connection, event_type_without_handler: type[Event]
) -> None:
    thing, item = uuid.uuid4(), uuid.uuid4()
    await produce_events(
        settings,
        [event(ThingProbed(note="later"), aggregate_id=thing, sequence=1), enqueued(item)],
    )

    async with projector_running(settings):
        await wait_caught_up(settings, db)

    assert await db.fetchval("SELECT type FROM events WHERE aggregate_id = $1", thing) == (
        "thing.ThingProbed"
    )
    assert await db.fetchval("SELECT count(*) FROM queue_items") == 1
    assert await read_topic(settings, settings.topics.dlq, timeout=1) == []


async def test_new_events_are_projected_while_the_projector_runs(
    settings: Settings, db: asyncpg.Connection
) -> None:
    items = [uuid.uuid4() for _ in range(20)]
    async with projector_running(settings):
        await produce_events(settings, [enqueued(i) for i in items[:10]])

        async def half() -> bool:
            count: int = await db.fetchval("SELECT count(*) FROM queue_items")
            return count == 10

        await eventually(half)
        await produce_events(settings, [enqueued(i) for i in items[10:]])
        await wait_caught_up(settings, db)

    assert await db.fetchval("SELECT count(*) FROM queue_items") == 20
