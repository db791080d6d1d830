"""audit and doctor: what an operator asks the read model, and re-driving stuck commands."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from projections.audit import audit
from projections.doctor import doctor
from projections.redrive import REDRIVE_SOURCE, redrive
from schemas.codec import encode
from tests.integration.projections.projection_support import (
    T0,
    cancelled,
    enqueue_command,
    enqueued,
    headers_of,
    outcome,
    produce_commands,
    produce_events,
    projector_running,
    read_topic,
    rescheduled,
    wait_caught_up,
)
from wavestack.settings import Settings


async def test_audit_lists_an_organizations_events_in_the_order_they_happened(
    settings: Settings, db: asyncpg.Connection
) -> None:
    first, second, foreign = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await produce_events(
        settings,
        [
            enqueued(second, occurred_at=T0 + timedelta(seconds=5)),
            enqueued(first, occurred_at=T0),
            rescheduled(first, 2, T0 + timedelta(days=3), occurred_at=T0 + timedelta(seconds=10)),
            cancelled(first, 3, occurred_at=T0 + timedelta(seconds=20)),
            enqueued(foreign, org_id="someone-else"),
        ],
    )
    async with projector_running(settings):
        await wait_caught_up(settings, db)

    history = await audit(settings, "org-projections")
    assert [(e.aggregate_id, e.sequence) for e in history] == [
        (first, 1),
        (second, 1),
        (first, 2),
        (first, 3),
    ]
    assert history[0].actor == {"sub": "tester", "kind": "bot"}
    assert history[0].data["title"] == "a video"
    one = await audit(settings, "org-projections", first)
    assert [e.type for e in one] == [
        "queue.ItemEnqueued",
        "queue.ItemRescheduled",
        "queue.ItemCancelled",
    ]
    assert await audit(settings, "nobody") == []


async def test_doctor_finds_a_command_left_pending_and_redrive_republishes_its_bytes(
    settings: Settings, db: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    stuck = enqueue_command(uuid.uuid4(), uuid.uuid4(), occurred_at=now - timedelta(hours=1))
    fresh = enqueue_command(uuid.uuid4(), uuid.uuid4(), occurred_at=now)
    decided = enqueue_command(uuid.uuid4(), uuid.uuid4(), occurred_at=now - timedelta(hours=1))
    created = enqueued(decided.aggregate_id, command_id=decided.command_id)
    await produce_commands(settings, [stuck, fresh, decided])
    await produce_events(settings, [created, outcome(decided, [created.id])])
    async with projector_running(settings):
        await wait_caught_up(settings, db)

    found = await doctor(settings, older_than=timedelta(minutes=10), now=now)

    assert [c.command_id for c in found] == [stuck.command_id]
    assert found[0].age == timedelta(hours=1)
    summary = await redrive(settings, found)
    assert summary.redriven == [stuck.command_id]
    assert summary.not_found == []
    copies = [
        r
        for r in await read_topic(settings, settings.topics.commands, at_least=4)
        if r.value == encode(stuck)
    ]
    assert len(copies) == 2
    assert copies[0].key == copies[1].key
    assert REDRIVE_SOURCE in headers_of(copies[1])
    async with projector_running(settings):
        await wait_caught_up(settings, db)
    row = await db.fetchrow(
        "SELECT outcome, requested_at FROM commands WHERE command_id = $1", stuck.command_id
    )
    assert row is not None and (row["outcome"], row["requested_at"]) == (
        "pending",
        stuck.occurred_at,
    )
