"""Secrets of inbound bots: Twitch EventSub secrets, Discord interaction tokens, and the
EventSub message ids already taken.

All three tables live in the vault schema (``<db_schema>_vault``, beside the key
table), which rebuilds never drop. Secrets are sealed like connection credentials: a
fresh data key per row, wrapped by the key ring, the plaintext bound to org and row.

- ``integration_secrets``: one Twitch integration's HMAC secret, until its DELETE
  destroys the row (crypto-shredding, as for connections).
- ``interaction_tokens``: the token of a Discord interaction whose outcome is still
  to be told (a follow-up message). Valid 15 minutes at Discord, so the row carries
  ``expires_at`` and is deleted once told or expired: the secret outlives its use by
  minutes, never forever (it never goes on the log).
- ``eventsub_messages``: EventSub message ids seen per integration, kept past the
  10-minute replay window so a redelivery is recognised across restarts.
- ``download_links`` (vault/downloads.py): the links to finished clips told to Discord.

Callers pass an asyncpg connection; the vault imports no driver.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from schemas.pg_ddl import create_once
from vault import downloads
from vault.credentials import unseal
from vault.keyring import KeyRing, WrappedKey
from vault.keytable import Connection, key_schema, seal_new

SECRETS = "integration_secrets"
TOKENS = "interaction_tokens"
MESSAGES = "eventsub_messages"


def _t(db_schema: str, table: str) -> str:
    # db_schema is validated by the settings ([a-z_][a-z0-9_]*): safe to quote as is.
    return f'"{key_schema(db_schema)}".{table}'


async def create_tables(conn: Connection, db_schema: str) -> None:
    await create_once(
        conn,
        key_schema(db_schema),
        f'CREATE SCHEMA IF NOT EXISTS "{key_schema(db_schema)}"',
        f"""CREATE TABLE IF NOT EXISTS {_t(db_schema, SECRETS)} (
            integration_id uuid PRIMARY KEY,
            org_id text NOT NULL,
            wrapped_key text NOT NULL,
            sealed_secret text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )""",
        f"""CREATE TABLE IF NOT EXISTS {_t(db_schema, TOKENS)} (
            command_id uuid PRIMARY KEY,
            org_id text NOT NULL,
            integration_id uuid NOT NULL,
            application_id text NOT NULL,
            aggregate_id uuid NOT NULL,
            kind text NOT NULL,
            wrapped_key text NOT NULL,
            sealed_token text NOT NULL,
            expires_at timestamptz NOT NULL,
            told_at timestamptz
        )""",
        f"CREATE INDEX IF NOT EXISTS interaction_tokens_aggregate_idx "
        f"ON {_t(db_schema, TOKENS)} (aggregate_id)",
        f"""CREATE TABLE IF NOT EXISTS {_t(db_schema, MESSAGES)} (
            integration_id uuid NOT NULL,
            message_id text NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (integration_id, message_id)
        )""",
        downloads.table_ddl(db_schema),
    )


# --- Twitch secrets --------------------------------------------------------------------


async def store_secret(
    conn: Connection, db_schema: str, ring: KeyRing, org_id: str, integration_id: str, secret: str
) -> str:
    """Seals and stores the secret (a retry keeps the first row); returns the ring key id."""
    wrapped, sealed = seal_new(ring, org_id, integration_id, {"secret": secret})
    await conn.execute(
        f"""INSERT INTO {_t(db_schema, SECRETS)}
            (integration_id, org_id, wrapped_key, sealed_secret) VALUES ($1, $2, $3, $4)
            ON CONFLICT (integration_id) DO NOTHING""",
        integration_id,
        org_id,
        wrapped.text,
        sealed,
    )
    return wrapped.kid


async def load_secret(
    conn: Connection, db_schema: str, ring: KeyRing, integration_id: str
) -> tuple[str, str] | None:
    """(org_id, plaintext secret), or None when there is no row (raises vault errors)."""
    row = await conn.fetchrow(
        f"""SELECT org_id, wrapped_key, sealed_secret FROM {_t(db_schema, SECRETS)}
            WHERE integration_id = $1""",
        integration_id,
    )
    if row is None:
        return None
    org_id = str(row[0])
    data_key = ring.unwrap(WrappedKey.parse(row[1]), org_id, integration_id)
    return org_id, unseal(data_key, row[2], org_id, integration_id)["secret"]


async def destroy_secret(conn: Connection, db_schema: str, integration_id: str) -> bool:
    status = await conn.execute(
        f"DELETE FROM {_t(db_schema, SECRETS)} WHERE integration_id = $1", integration_id
    )
    return bool(status.endswith(" 1"))


# --- Discord interaction tokens -----------------------------------------------------


@dataclass(frozen=True)
class PendingReply:
    """An interaction whose outcome is still to be told, its token opened."""

    command_id: uuid.UUID
    org_id: str
    integration_id: uuid.UUID
    application_id: str
    aggregate_id: uuid.UUID
    kind: str  # the slash command: queue | clip
    expires_at: datetime
    told_at: datetime | None
    token: str = field(repr=False)


async def store_token(
    conn: Connection,
    db_schema: str,
    ring: KeyRing,
    reply: PendingReply,
) -> None:
    """Stores the sealed token; a redelivered interaction keeps the first row."""
    wrapped, sealed = seal_new(ring, reply.org_id, str(reply.command_id), {"token": reply.token})
    await conn.execute(
        f"""INSERT INTO {_t(db_schema, TOKENS)} (command_id, org_id, integration_id,
            application_id, aggregate_id, kind, wrapped_key, sealed_token, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (command_id) DO NOTHING""",
        reply.command_id,
        reply.org_id,
        reply.integration_id,
        reply.application_id,
        reply.aggregate_id,
        reply.kind,
        wrapped.text,
        sealed,
        reply.expires_at,
    )


REPLY_COLUMNS = (
    "command_id, org_id, integration_id, application_id, aggregate_id, kind, wrapped_key,"
    " sealed_token, expires_at, told_at"
)


async def pending_replies(
    conn: Connection,
    db_schema: str,
    ring: KeyRing,
    *,
    command_id: uuid.UUID,
    aggregate_id: uuid.UUID,
) -> list[PendingReply]:
    """Untold, unexpired replies waiting on this command or on this aggregate."""
    rows = await conn.fetch(
        f"""SELECT {REPLY_COLUMNS} FROM {_t(db_schema, TOKENS)}
            WHERE (command_id = $1 OR aggregate_id = $2) AND told_at IS NULL
            AND expires_at > now()""",
        command_id,
        aggregate_id,
    )
    replies = []
    for row in rows:
        command = str(row[0])
        data_key = ring.unwrap(WrappedKey.parse(row[6]), row[1], command)
        token = unseal(data_key, row[7], row[1], command)["token"]
        replies.append(
            PendingReply(row[0], row[1], row[2], row[3], row[4], row[5], row[8], row[9], token)
        )
    return replies


async def mark_told(conn: Connection, db_schema: str, command_id: uuid.UUID) -> None:
    """The reply went out: the token is dropped at once (its row stays as a marker)."""
    await conn.execute(
        f"""UPDATE {_t(db_schema, TOKENS)} SET told_at = now(), sealed_token = '',
            wrapped_key = '' WHERE command_id = $1""",
        command_id,
    )


async def sweep(conn: Connection, db_schema: str) -> None:
    """Deletes expired tokens and EventSub ids past any replay window."""
    await conn.execute(f"DELETE FROM {_t(db_schema, TOKENS)} WHERE expires_at < now()")
    await conn.execute(
        f"DELETE FROM {_t(db_schema, MESSAGES)} WHERE received_at < now() - interval '1 hour'"
    )
    await downloads.sweep(conn, db_schema)


async def forget_integration(conn: Connection, db_schema: str, integration_id: str) -> None:
    """A deleted integration's secret, pending tokens and seen ids go at once."""
    await destroy_secret(conn, db_schema, integration_id)
    for table in (TOKENS, MESSAGES):
        await conn.execute(
            f"DELETE FROM {_t(db_schema, table)} WHERE integration_id = $1", integration_id
        )


async def rewrap_secrets(conn: Connection, db_schema: str, ring: KeyRing) -> int:
    """Re-wraps every Twitch secret's data key not under the ring's primary key."""
    rows = await conn.fetch(
        f"SELECT integration_id::text, org_id, wrapped_key FROM {_t(db_schema, SECRETS)}"
    )
    changed = 0
    for integration_id, org_id, text in rows:
        wrapped = WrappedKey.parse(text)
        fresh = ring.rewrap(wrapped, org_id, integration_id)
        if fresh is wrapped:
            continue
        status = await conn.execute(
            f"""UPDATE {_t(db_schema, SECRETS)} SET wrapped_key = $1
                WHERE integration_id = $2 AND wrapped_key = $3""",
            fresh.text,
            integration_id,
            text,
        )
        changed += status == "UPDATE 1"  # deleted or rewrapped meanwhile: not ours
    return changed


# --- EventSub message ids --------------------------------------------------------------


async def seen_message(
    conn: Connection, db_schema: str, integration_id: str, message_id: str
) -> bool:
    row = await conn.fetchrow(
        f"SELECT 1 FROM {_t(db_schema, MESSAGES)} WHERE integration_id = $1 AND message_id = $2",
        integration_id,
        message_id,
    )
    return row is not None


async def remember_message(
    conn: Connection, db_schema: str, integration_id: str, message_id: str
) -> None:
    await conn.execute(
        f"""INSERT INTO {_t(db_schema, MESSAGES)} (integration_id, message_id)
            VALUES ($1, $2) ON CONFLICT DO NOTHING""",
        integration_id,
        message_id,
    )
