"""Download links of finished clips, as told in Discord follow-ups.

A link opens one asset, read-only, without a token, until it expires: the token in
it is random, and only its sha256 is stored, so the table cannot be turned back into
links. It lives in the vault schema with the other inbound secrets.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from vault.keytable import Connection, key_schema

TABLE = "download_links"


def _t(db_schema: str) -> str:
    return f'"{key_schema(db_schema)}".{TABLE}'


def table_ddl(db_schema: str) -> str:
    """The table's DDL, created with the other inbound tables (``inbound.create_tables``)."""
    return f"""CREATE TABLE IF NOT EXISTS {_t(db_schema)} (
            token_sha256 text PRIMARY KEY,
            org_id text NOT NULL,
            asset_id uuid NOT NULL,
            expires_at timestamptz NOT NULL
        )"""


async def sweep(conn: Connection, db_schema: str) -> None:
    await conn.execute(f"DELETE FROM {_t(db_schema)} WHERE expires_at < now()")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_link(
    conn: Connection, db_schema: str, org_id: str, asset_id: uuid.UUID, lifetime: timedelta
) -> str:
    """A new token for the asset (the caller puts it in the link it tells)."""
    token = secrets.token_urlsafe(32)
    await conn.execute(
        f"""INSERT INTO {_t(db_schema)} (token_sha256, org_id, asset_id, expires_at)
            VALUES ($1, $2, $3, now() + $4::interval)""",
        _digest(token),
        org_id,
        asset_id,
        lifetime,
    )
    return token


async def link_org(conn: Connection, db_schema: str, asset_id: uuid.UUID, token: str) -> str | None:
    """The organization whose asset this unexpired token opens, or None."""
    row = await conn.fetchrow(
        f"""SELECT org_id FROM {_t(db_schema)}
            WHERE token_sha256 = $1 AND asset_id = $2 AND expires_at > now()""",
        _digest(token),
        asset_id,
    )
    return None if row is None else str(row[0])
