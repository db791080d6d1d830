"""The delivery process's own tables: subscriptions, the due table, replay jobs.

They live in ``<db_schema>_webhooks``, beside the read model and outside it (a rebuild
swaps and drops read-model schemas; this is the process's durable working state, like
the publisher's tables). The due table is the durable schedule: the consumer inserts a
row per (subscription, event) and commits its offset; the dispatcher claims due rows,
delivers, records the attempt on the log, then moves the row to its next attempt or
marks it done. Done rows stay (``due_at`` NULL) so a re-read event is not delivered
again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from schemas.pg_ddl import create_once

SCHEMA_SUFFIX = "_webhooks"
Conn = asyncpg.Connection | PoolConnectionProxy


def schema_of(db_schema: str) -> str:
    return f"{db_schema}{SCHEMA_SUFFIX}"


@dataclass(frozen=True)
class DueRow:
    delivery_id: uuid.UUID
    org_id: str
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    replay_id: uuid.UUID | None
    attempt: int
    body: bytes


async def create(conn: Conn, db_schema: str) -> None:
    s = schema_of(db_schema)
    await create_once(
        conn,
        s,
        f'CREATE SCHEMA IF NOT EXISTS "{s}"',
        f"""CREATE TABLE IF NOT EXISTS "{s}".subscriptions (
            id uuid PRIMARY KEY,
            org_id text NOT NULL,
            url text NOT NULL,
            event_types text[] NOT NULL,
            status text NOT NULL,
            created_at timestamptz NOT NULL,
            secrets jsonb NOT NULL,
            version integer NOT NULL
        )""",
        f"""CREATE TABLE IF NOT EXISTS "{s}".due (
            delivery_id uuid PRIMARY KEY,
            org_id text NOT NULL,
            subscription_id uuid NOT NULL,
            event_id uuid NOT NULL,
            event_type text NOT NULL,
            replay_id uuid,
            attempt integer NOT NULL,
            due_at timestamptz,
            claimed_until timestamptz NOT NULL DEFAULT '-infinity',
            body bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )""",
        f'CREATE INDEX IF NOT EXISTS due_at_idx ON "{s}".due (due_at) WHERE due_at IS NOT NULL',
        f"""CREATE TABLE IF NOT EXISTS "{s}".replays (
            replay_id uuid PRIMARY KEY,
            org_id text NOT NULL,
            subscription_id uuid NOT NULL,
            since timestamptz NOT NULL,
            requested_at timestamptz NOT NULL,
            done_at timestamptz,
            -- A catch-up of a new subscription: its rows take the live delivery ids, so
            -- what the consumer already queued is not queued twice.
            live boolean NOT NULL DEFAULT false
        )""",
    )


async def load_subscriptions(conn: Conn, db_schema: str) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"""SELECT id, org_id, url, event_types, status, created_at, secrets::text, version
                FROM "{schema_of(db_schema)}".subscriptions"""
        )
    )


async def save_subscription(conn: Conn, db_schema: str, row: dict[str, Any]) -> None:
    """Upserts a subscription; an older version never overwrites a newer one."""
    await conn.execute(
        f"""INSERT INTO "{schema_of(db_schema)}".subscriptions AS s
            (id, org_id, url, event_types, status, created_at, secrets, version)
            VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8)
            ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url,
                event_types = EXCLUDED.event_types, status = EXCLUDED.status,
                secrets = EXCLUDED.secrets, version = EXCLUDED.version
            WHERE s.version < EXCLUDED.version""",
        row["id"],
        row["org_id"],
        row["url"],
        row["event_types"],
        row["status"],
        row["created_at"],
        row["secrets"],
        row["version"],
    )


async def insert_due(conn: Conn, db_schema: str, rows: Sequence[DueRow], due_at: datetime) -> None:
    """New deliveries, due at once; a delivery id already known (done or not) is kept."""
    if not rows:
        return
    await conn.executemany(
        f"""INSERT INTO "{schema_of(db_schema)}".due
            (delivery_id, org_id, subscription_id, event_id, event_type, replay_id, attempt,
             due_at, body)
            VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8) ON CONFLICT (delivery_id) DO NOTHING""",
        [
            (
                r.delivery_id,
                r.org_id,
                r.subscription_id,
                r.event_id,
                r.event_type,
                r.replay_id,
                due_at,
                r.body,
            )
            for r in rows
        ],
    )


async def claim(
    conn: Conn,
    db_schema: str,
    busy: Sequence[uuid.UUID],
    per_subscription: int,
    limit: int,
    claim_seconds: float,
) -> list[DueRow]:
    """Due rows of subscriptions not in ``busy``, at most ``per_subscription`` each.

    The UPDATE re-checks ``claimed_until`` on the row as it is when it locks it, so two
    processes claiming at once never both get a row.
    """
    s = schema_of(db_schema)
    rows = await conn.fetch(
        f"""WITH ranked AS (
                SELECT delivery_id, row_number() OVER (
                    PARTITION BY subscription_id ORDER BY due_at, delivery_id) AS n
                FROM "{s}".due
                WHERE due_at <= now() AND claimed_until < now()
                  AND NOT (subscription_id = ANY($1::uuid[]))
            ), picked AS (
                SELECT delivery_id FROM ranked WHERE n <= $2 LIMIT $3
            )
            UPDATE "{s}".due d SET claimed_until = now() + make_interval(secs => $4)
            FROM picked WHERE d.delivery_id = picked.delivery_id AND d.claimed_until < now()
              AND d.due_at IS NOT NULL
            RETURNING d.delivery_id, d.org_id, d.subscription_id, d.event_id, d.event_type,
                      d.replay_id, d.attempt, d.body""",
        list(busy),
        per_subscription,
        limit,
        claim_seconds,
    )
    return [DueRow(*r) for r in rows]


async def move_many(
    conn: Conn,
    db_schema: str,
    delivery_ids: Sequence[uuid.UUID],
    attempts: Sequence[int | None],
    due_ats: Sequence[datetime | None],
) -> None:
    """Moves rows on in one statement: to their next attempt at ``due_at``, or done
    (``attempt`` None: the row keeps its last attempt's number, ``due_at`` NULL)."""
    if not delivery_ids:
        return
    await conn.execute(
        f"""UPDATE "{schema_of(db_schema)}".due d
            SET attempt = COALESCE(m.attempt, d.attempt), due_at = m.due_at,
                claimed_until = '-infinity'
            FROM unnest($1::uuid[], $2::int[], $3::timestamptz[]) AS m(id, attempt, due_at)
            WHERE d.delivery_id = m.id""",
        list(delivery_ids),
        list(attempts),
        list(due_ats),
    )


async def add_replay(
    conn: Conn,
    db_schema: str,
    replay_id: uuid.UUID,
    org_id: str,
    subscription_id: uuid.UUID,
    since: datetime,
    requested_at: datetime,
    live: bool = False,
) -> None:
    await conn.execute(
        f"""INSERT INTO "{schema_of(db_schema)}".replays
            (replay_id, org_id, subscription_id, since, requested_at, live)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (replay_id) DO NOTHING""",
        replay_id,
        org_id,
        subscription_id,
        since,
        requested_at,
        live,
    )


async def open_replays(conn: Conn, db_schema: str) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"""SELECT replay_id, org_id, subscription_id, since, requested_at, live
                FROM "{schema_of(db_schema)}".replays WHERE done_at IS NULL
                ORDER BY requested_at"""
        )
    )


async def replay_done(conn: Conn, db_schema: str, replay_id: uuid.UUID) -> None:
    await conn.execute(
        f'UPDATE "{schema_of(db_schema)}".replays SET done_at = now() WHERE replay_id = $1',
        replay_id,
    )


async def prune(conn: Conn, db_schema: str, older_than_seconds: float) -> int:
    """Forgets done deliveries and replay jobs older than that (the log keeps them).

    A done row keeps a re-read event from being delivered again; past this age the
    consumer's offsets are far beyond its event.
    """
    s = schema_of(db_schema)
    status = await conn.execute(
        f"""DELETE FROM "{s}".due WHERE due_at IS NULL
            AND created_at < now() - make_interval(secs => $1)""",
        older_than_seconds,
    )
    await conn.execute(
        f"""DELETE FROM "{s}".replays WHERE done_at < now() - make_interval(secs => $1)""",
        older_than_seconds,
    )
    return int(status.split()[-1])
