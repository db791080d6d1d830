"""The projector turns publishing events into queue item, attempt, post and connection rows."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import asyncpg

from projections.handlers.attempts import attempt_row_id
from projections.handlers.posts import post_id_of
from tests.integration.projections.projection_support import (
    T0,
    produce_events,
    projector_running,
    wait_caught_up,
)
from tests.integration.projections.publishing_events import (
    RESET_AT,
    RETRY_AT,
    SCHEDULE_AT,
    SEALED,
    SESSION_URI,
    History,
    attempt_id,
    every_event,
    lifecycles,
)
from wavestack.settings import Settings

PUBLISHING_TABLES = ("queue_items", "publish_attempts", "post_rows", "connections")


async def item_row(db: asyncpg.Connection, history: History) -> asyncpg.Record:
    row = await db.fetchrow("SELECT * FROM queue_items WHERE id = $1", history.aggregate)
    assert row is not None
    return row


async def attempt_rows(db: asyncpg.Connection, history: History) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT * FROM publish_attempts WHERE org_id = $1 AND item_id = $2 ORDER BY attempt",
        history.org_id,
        history.aggregate,
    )


async def snapshot(db: asyncpg.Connection) -> dict[str, list[dict[str, Any]]]:
    return {
        table: [dict(r) for r in await db.fetch(f"SELECT * FROM {table} ORDER BY id")]
        for table in PUBLISHING_TABLES
    }


async def project(settings: Settings, db: asyncpg.Connection, histories: list[History]) -> None:
    async with projector_running(settings):
        await produce_events(settings, [e for h in histories for e in h.events])
        await wait_caught_up(settings, db)


async def test_a_published_item_has_its_attempt_its_post_and_its_connection(
    settings: Settings, db: asyncpg.Connection
) -> None:
    h = lifecycles()
    await project(settings, db, [h["connection"], h["published"]])

    item = await item_row(db, h["published"])
    assert (item["status"], item["attempts"], item["version"]) == ("published", 1, 4)
    assert item["connection_id"] == h["connection"].aggregate
    assert item["schedule_local"] == "2025-03-01T14:00:00+01:00"
    assert item["schedule_at"] == SCHEDULE_AT
    assert (item["due_at"], item["next_attempt_at"], item["reason"]) == (None, None, None)
    assert item["post_id"] == post_id_of(h["published"].aggregate)
    (attempt,) = await attempt_rows(db, h["published"])
    assert attempt["id"] == attempt_row_id(h["published"].aggregate, 1)
    assert (attempt["outcome"], attempt["attempt_id"], attempt["adapter"]) == (
        "published",
        attempt_id(h["published"].aggregate, 1),
        "webhook",
    )
    assert attempt["started_at"] == h["published"].events[1].occurred_at
    assert attempt["finished_at"] == h["published"].events[3].occurred_at
    assert attempt["platform_post_id"] == f"post-{h['published'].aggregate.hex[:8]}"
    post = await db.fetchrow("SELECT * FROM posts WHERE id = $1", item["post_id"])
    assert post is not None
    assert (post["queue_item_id"], post["platform"], post["attempt"]) == (
        h["published"].aggregate,
        "webhook",
        1,
    )
    assert post["platform_post_id"] == attempt["platform_post_id"]
    assert post["published_at"] == h["published"].events[3].occurred_at
    connection = await db.fetchrow(
        "SELECT * FROM connections WHERE id = $1", h["connection"].aggregate
    )
    assert connection is not None
    assert (connection["status"], connection["platform"], connection["name"]) == (
        "active",
        "webhook",
        "our webhook",
    )
    assert connection["deleted_at"] is None


async def test_retrying_then_failed_then_retried_then_published_shows_every_step(
    settings: Settings, db: asyncpg.Connection
) -> None:
    h = lifecycles()["retried"]
    seen: list[tuple[Any, ...]] = []
    async with projector_running(settings):
        # Step by step, to see the item between its events: enqueued, start 1,
        # fail 1 (retry), start 2, fail 2 + failed, retried, start 3, published.
        for start, end in ((0, 3), (3, 6), (6, 7), (7, 9)):
            await produce_events(settings, h.events[start:end])
            await wait_caught_up(settings, db)
            row = await item_row(db, h)
            seen.append((row["status"], row["attempts"], row["due_at"], row["reason"]))

    retry_1 = T0 + timedelta(hours=1, minutes=1)
    assert seen == [
        ("retrying", 1, retry_1, None),
        ("failed", 2, None, "the webhook answered 401: fix the connection"),
        ("scheduled", 2, RETRY_AT, None),
        ("published", 3, None, None),
    ]
    item = await item_row(db, h)
    # The client's schedule_at stays; the retry's time was the next attempt's.
    assert item["schedule_at"] == SCHEDULE_AT
    assert (item["last_error"], item["error_class"]) == ("permanent answer", "permanent")
    assert item["connection_broken"] is False  # cleared by the retry
    attempts = await attempt_rows(db, h)
    assert [(a["attempt"], a["outcome"], a["error_class"]) for a in attempts] == [
        (1, "failed", "transient"),
        (2, "failed", "permanent"),
        (3, "published", None),
    ]
    assert [a["platform_status"] for a in attempts] == [503, 401, None]
    assert attempts[0]["next_attempt_at"] == retry_1
    assert attempts[1]["next_attempt_at"] is None
    assert (
        await db.fetchval("SELECT count(*) FROM posts WHERE queue_item_id = $1", h.aggregate) == 1
    )


async def test_an_unknown_outcome_that_cannot_be_reconciled_leaves_the_item_unconfirmed(
    settings: Settings, db: asyncpg.Connection
) -> None:
    h = lifecycles()["unconfirmed"]
    first = attempt_id(h.aggregate, 1)
    late = History(h.aggregate, h.org_id, list(h.events)).published(2)
    async with projector_running(settings):
        await produce_events(settings, h.events)
        await wait_caught_up(settings, db)
        doubt = await item_row(db, h)
        doubted = await attempt_rows(db, h)
        await produce_events(settings, late.events[len(h.events) :])  # a late find
        await wait_caught_up(settings, db)

    assert (doubt["status"], doubt["reason"], doubt["due_at"]) == (
        "unconfirmed",
        "look on the platform",
        None,
    )
    assert [(a["outcome"], a["error_class"]) for a in doubted] == [
        ("failed", "unknown-outcome"),
        ("unconfirmed", None),
    ]
    assert doubted[1]["reconcile_attempt_id"] == first
    assert (doubted[1]["reconciled_attempt_id"], doubted[1]["reconcile_finding"]) == (
        first,
        "cannot-know",
    )
    item = await item_row(db, h)
    assert (item["status"], item["reason"]) == ("published", None)
    assert [a["outcome"] for a in await attempt_rows(db, h)] == ["failed", "published"]


async def test_a_quota_answer_reschedules_the_item_to_the_reset_with_the_reason(
    settings: Settings, db: asyncpg.Connection
) -> None:
    h = lifecycles()
    await project(settings, db, [h["quota"], h["waiting"]])

    item = await item_row(db, h["quota"])
    assert (item["status"], item["attempts"]) == ("scheduled", 1)
    assert (item["schedule_at"], item["due_at"], item["next_attempt_at"]) == (
        RESET_AT,
        RESET_AT,
        None,
    )
    assert item["reason"] == "quota used up; rescheduled"
    assert item["error_class"] == "quota"
    (attempt,) = await attempt_rows(db, h["quota"])
    assert (attempt["outcome"], attempt["error_class"], attempt["platform_status"]) == (
        "failed",
        "quota",
        403,
    )
    waiting = await item_row(db, h["waiting"])
    assert (waiting["status"], waiting["due_at"], waiting["attempts"]) == (
        "scheduled",
        SCHEDULE_AT,
        0,
    )


async def test_every_event_delivered_twice_gives_the_same_rows_as_once(
    settings: Settings, db: asyncpg.Connection
) -> None:
    events = every_event(lifecycles())
    async with projector_running(settings):
        # Each event twice in a row (one batch sees both copies)...
        await produce_events(settings, [e for e in events for _ in range(2)])
        await wait_caught_up(settings, db)
        doubled = await snapshot(db)
        # ...then the whole history once more (later batches see old events).
        await produce_events(settings, events)
        await wait_caught_up(settings, db)
        again = await snapshot(db)

    assert again == doubled
    statuses = {r["id"]: r["status"] for r in doubled["queue_items"]}
    histories = lifecycles()
    assert {
        name: statuses[histories[name].aggregate]
        for name in histories
        if name in ("published", "retried", "unconfirmed", "quota", "waiting")
    } == {
        "published": "published",
        "retried": "published",
        "unconfirmed": "unconfirmed",
        "quota": "scheduled",
        "waiting": "scheduled",
    }
    assert len(doubled["publish_attempts"]) == 1 + 3 + 2 + 1
    assert len(doubled["post_rows"]) == 2
    assert await db.fetchval("SELECT count(*) FROM events") == len(events)


async def test_no_table_holds_the_sealed_credentials_or_an_upload_session(
    settings: Settings, db: asyncpg.Connection
) -> None:
    h = lifecycles()
    await project(settings, db, list(h.values()))

    tables = [
        r["table_name"]
        for r in await db.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
            settings.db_schema,
        )
    ]
    assert {"connections", "publish_attempts", "post_rows", "posts", "events"} <= set(tables)
    for secret in (SEALED, SESSION_URI, SEALED.removeprefix("v1:")):
        found = {
            t: n
            for t in tables
            if (
                n := await db.fetchval(
                    f'SELECT count(*) FROM "{t}" r WHERE r::text LIKE $1', f"%{secret}%"
                )
            )
        }
        assert found == {}, secret
    audited = await db.fetchrow(
        "SELECT data FROM events WHERE aggregate_id = $1 AND type = $2",
        h["connection"].aggregate,
        "connection.ConnectionCreated",
    )
    assert audited is not None
    assert json.loads(audited["data"]) == {
        "platform": "webhook",
        "name": "our webhook",
        "sealed_credentials": "[redacted]",
        "key_id": "k1",
    }
    gone = await db.fetchrow("SELECT * FROM connections WHERE id = $1", h["gone"].aggregate)
    assert gone is not None
    assert (gone["status"], gone["deleted_at"]) == ("deleted", h["gone"].events[1].occurred_at)


async def test_a_publishing_event_of_another_organization_changes_nothing(
    settings: Settings, db: asyncpg.Connection
) -> None:
    h = lifecycles()["published"]
    foreign = History(h.aggregate, "org-other", list(h.events[:1])).started(1)
    await project(settings, db, [History(h.aggregate, h.org_id, h.events[:1]), foreign])

    item = await item_row(db, h)
    assert (item["status"], item["attempts"], item["org_id"]) == ("scheduled", 0, h.org_id)
    # Only the item's organization ever sees attempts of it.
    assert await attempt_rows(db, h) == []
