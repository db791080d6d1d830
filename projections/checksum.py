"""A digest of a read model's content: equal for a rebuilt model and the live one.

Every table, ordered by primary key, every column except those that record when or
in which order *this* database received something (they differ between a live
model and its rebuild even when the content is the same). Every other timestamp
comes from the events (occurred_at, data), never from now().
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import asyncpg

from projections.db import quote_ident

EXCLUDED_TABLES = frozenset({"projection_state"})  # epochs count operator actions
EXCLUDED_COLUMNS: dict[str, frozenset[str]] = {
    "events": frozenset({"position"}),
    "projection_offsets": frozenset({"updated_at"}),
    "schema_migrations": frozenset({"applied_at"}),
}


def row_query(schema: str, table: str, columns: list[str], key: list[str]) -> str:
    """One text line per row, in primary-key order (all columns if there is no key)."""
    excluded = EXCLUDED_COLUMNS.get(table, frozenset())
    kept = [c for c in columns if c not in excluded]
    order = key or kept
    return (
        f"SELECT ROW({', '.join(map(quote_ident, kept))})::text "
        f"FROM {quote_ident(schema)}.{quote_ident(table)} "
        f"ORDER BY {', '.join(map(quote_ident, order))}"
    )


@dataclass(frozen=True)
class TableDigest:
    table: str
    rows: int
    digest: str  # sha256 of the table's header line and rows, as the total reads them


async def checksum(conn: asyncpg.Connection, schema: str) -> str:
    _, total = await table_checksums(conn, schema)
    return total


async def table_checksums(conn: asyncpg.Connection, schema: str) -> tuple[list[TableDigest], str]:
    """Per table its row count and digest, and the digest of the whole model.

    A table's digest tells which table differs when two totals do; the total is the
    same stream of bytes as the per-table ones, concatenated.
    """
    total = hashlib.sha256()
    tables: list[TableDigest] = []
    # One snapshot for every table, and fixed output formats, so the text of a row
    # depends on nothing but its values.
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute(
            "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD';"
            " SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 1"
        )
        for table in await _tables(conn, schema):
            columns = [
                r["column_name"]
                for r in await conn.fetch(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                    schema,
                    table,
                )
            ]
            key = await _primary_key(conn, schema, table)
            kept = [c for c in columns if c not in EXCLUDED_COLUMNS.get(table, frozenset())]
            one = hashlib.sha256()
            header = f"{table}({','.join(kept)})\n".encode()
            total.update(header)
            one.update(header)
            rows = 0
            async for row in conn.cursor(row_query(schema, table, columns, key), prefetch=10_000):
                line = row[0].encode() + b"\n"
                total.update(line)
                one.update(line)
                rows += 1
            tables.append(TableDigest(table, rows, one.hexdigest()))
    return tables, total.hexdigest()


async def schema_exists(conn: asyncpg.Connection, schema: str) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema
    )
    return found


async def _tables(conn: asyncpg.Connection, schema: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name",
        schema,
    )
    return [r["table_name"] for r in rows if r["table_name"] not in EXCLUDED_TABLES]


async def _primary_key(conn: asyncpg.Connection, schema: str, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT a.attname FROM pg_index i"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = to_regclass($1) AND i.indisprimary"
        " ORDER BY array_position(i.indkey::int2[], a.attnum)",
        f"{quote_ident(schema)}.{quote_ident(table)}",
    )
    return [r["attname"] for r in rows]
