"""Keys and indexes taken off the tables of a bulk load and put back after it.

Building a b-tree once from sorted data is several times cheaper than inserting a
million rows into it one by one, so the rebuild COPYs into bare tables. Only the
tables the load writes lose theirs; the bookkeeping tables (positions, state) keep
their keys, which their upserts need.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Deferred:
    table: str  # unqualified
    drop: str
    create: str


async def take_off(conn: asyncpg.Connection, schema: str, tables: Iterable[str]) -> list[Deferred]:
    """Drops the primary keys and indexes of ``tables``; returns how to build them again."""
    names = list(tables)
    keys = await conn.fetch(
        "SELECT t.relname AS tbl, quote_ident(n.nspname) || '.' || quote_ident(t.relname) AS q,"
        " quote_ident(c.conname) AS name, pg_get_constraintdef(c.oid) AS def"
        " FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
        " JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = $1 AND t.relname = ANY($2::text[]) AND c.contype = 'p'"
        " ORDER BY t.relname",
        schema,
        names,
    )
    indexes = await conn.fetch(
        "SELECT t.relname AS tbl, quote_ident(n.nspname) || '.' || quote_ident(ic.relname) AS q,"
        " pg_get_indexdef(i.indexrelid) AS def"
        " FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid"
        " JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = $1 AND t.relname = ANY($2::text[])"
        " AND NOT i.indisprimary AND NOT i.indisunique"
        " ORDER BY ic.relname",
        schema,
        names,
    )
    deferred = [
        Deferred(
            r["tbl"],
            f"ALTER TABLE {r['q']} DROP CONSTRAINT {r['name']}",
            f"ALTER TABLE {r['q']} ADD CONSTRAINT {r['name']} {r['def']}",
        )
        for r in keys
    ] + [Deferred(r["tbl"], f"DROP INDEX {r['q']}", r["def"]) for r in indexes]
    for item in deferred:
        await conn.execute(item.drop)
    return deferred


async def put_back(conn: asyncpg.Connection, deferred: Iterable[Deferred]) -> None:
    # Keys first: they are what the next writer (the tail's merge) needs most.
    for item in sorted(deferred, key=lambda d: not d.create.startswith("ALTER")):
        await conn.execute(item.create)
