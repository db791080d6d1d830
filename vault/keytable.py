"""The key table: one row per connection, its wrapped data key and sealed credentials.

It lives in its own PostgreSQL schema, ``<db_schema>_vault``, beside the read model,
so a rebuild (which swaps and drops read-model schemas) never touches it: the data
keys exist nowhere else. The API writes a row before it sends ``CreateConnection``;
the publisher reads it to open the credentials and deletes it when it sees
``ConnectionDeleted`` (crypto-shredding: the sealed copies on the log can then
never be opened). The SQL is here so both can share it; the vault imports no driver,
so callers pass an asyncpg connection (anything with ``execute``/``fetchrow``/``fetch``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from schemas.pg_ddl import create_once
from vault.credentials import new_data_key, seal, unseal
from vault.keyring import KeyRing, WrappedKey

SCHEMA_SUFFIX = "_vault"
TABLE = "connection_keys"


class Connection(Protocol):
    async def execute(self, query: str, *args: Any) -> str: ...
    async def fetchrow(self, query: str, *args: Any) -> Any: ...
    async def fetch(self, query: str, *args: Any) -> Any: ...


def key_schema(db_schema: str) -> str:
    """The schema of the key table for the read model in ``db_schema``."""
    return f"{db_schema}{SCHEMA_SUFFIX}"


def _table(db_schema: str) -> str:
    # db_schema is validated by the settings ([a-z_][a-z0-9_]*): safe to quote as is.
    return f'"{key_schema(db_schema)}".{TABLE}'


@dataclass(frozen=True)
class StoredConnection:
    connection_id: str
    org_id: str
    platform: str
    wrapped_key: WrappedKey
    sealed_credentials: str = field(repr=False)


async def create_table(conn: Connection, db_schema: str) -> None:
    await create_once(
        conn,
        key_schema(db_schema),
        f'CREATE SCHEMA IF NOT EXISTS "{key_schema(db_schema)}"',
        f"""CREATE TABLE IF NOT EXISTS {_table(db_schema)} (
            connection_id uuid PRIMARY KEY,
            org_id text NOT NULL,
            platform text NOT NULL,
            wrapped_key text NOT NULL,
            sealed_credentials text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            rewrapped_at timestamptz
        )""",
    )


def seal_new(
    ring: KeyRing, org_id: str, connection_id: str, credentials: Mapping[str, str]
) -> tuple[WrappedKey, str]:
    """A fresh data key wrapped by the ring, and the credentials sealed under it."""
    data_key = new_data_key()
    return ring.wrap(data_key, org_id, connection_id), seal(
        data_key, credentials, org_id, connection_id
    )


async def store(
    conn: Connection,
    db_schema: str,
    connection: StoredConnection,
) -> bool:
    """Inserts the row; False when the connection id already has one (left unchanged)."""
    status = await conn.execute(
        f"""INSERT INTO {_table(db_schema)}
            (connection_id, org_id, platform, wrapped_key, sealed_credentials)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connection_id) DO NOTHING""",
        connection.connection_id,
        connection.org_id,
        connection.platform,
        connection.wrapped_key.text,
        connection.sealed_credentials,
    )
    return bool(status.endswith(" 1"))


async def load(conn: Connection, db_schema: str, connection_id: str) -> StoredConnection | None:
    row = await conn.fetchrow(
        f"""SELECT connection_id::text, org_id, platform, wrapped_key, sealed_credentials
            FROM {_table(db_schema)} WHERE connection_id = $1""",
        connection_id,
    )
    if row is None:
        return None
    return StoredConnection(
        row[0], row[1], row[2], WrappedKey.parse(row[3]), sealed_credentials=row[4]
    )


async def destroy(conn: Connection, db_schema: str, connection_id: str) -> bool:
    """Deletes the data key (crypto-shredding); True when there was one."""
    status = await conn.execute(
        f"DELETE FROM {_table(db_schema)} WHERE connection_id = $1", connection_id
    )
    return bool(status.endswith(" 1"))


def open_credentials(stored: StoredConnection, ring: KeyRing) -> dict[str, str]:
    """The plaintext credentials (raises vault errors for a wrong ring or a moved row)."""
    data_key = ring.unwrap(stored.wrapped_key, stored.org_id, stored.connection_id)
    return unseal(data_key, stored.sealed_credentials, stored.org_id, stored.connection_id)


async def rewrap_all(conn: Connection, db_schema: str, ring: KeyRing) -> int:
    """Re-wraps every data key not under the ring's primary key; returns how many."""
    rows = await conn.fetch(
        f"SELECT connection_id::text, org_id, wrapped_key FROM {_table(db_schema)}"
    )
    changed = 0
    for connection_id, org_id, text in rows:
        wrapped = WrappedKey.parse(text)
        fresh = ring.rewrap(wrapped, org_id, connection_id)
        if fresh is wrapped:
            continue
        # Compare-and-set: a row deleted or rewrapped meanwhile is left alone.
        status = await conn.execute(
            f"""UPDATE {_table(db_schema)} SET wrapped_key = $1, rewrapped_at = now()
                WHERE connection_id = $2 AND wrapped_key = $3""",
            fresh.text,
            connection_id,
            text,
        )
        changed += status == "UPDATE 1"  # a row deleted or rewrapped meanwhile: not ours
    return changed
