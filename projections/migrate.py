"""Applies the SQL files in projections/migrations/ to one schema, once each, in order."""

from __future__ import annotations

from importlib import resources

import asyncpg

MIGRATIONS_PACKAGE = "projections.migrations"


def migration_files() -> list[tuple[str, str]]:
    """(name, sql) of every migration, ordered by file name (``001_...sql``)."""
    folder = resources.files(MIGRATIONS_PACKAGE)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name, f.read_text()) for f in files]


async def migrate(conn: asyncpg.Connection, schema: str) -> list[str]:
    """Brings ``schema`` up to date; returns the names of the migrations it applied.

    Runs in one transaction under an advisory lock, so two processes starting at
    once (API and projector) don't both apply the same file.
    """
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{schema}")
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations '
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {
            r["name"] for r in await conn.fetch(f'SELECT name FROM "{schema}".schema_migrations')
        }
        await conn.execute(f'SET LOCAL search_path TO "{schema}"')
        for name, sql in migration_files():
            if name in done:
                continue
            await conn.execute(sql)
            await conn.execute(f'INSERT INTO "{schema}".schema_migrations (name) VALUES ($1)', name)
            applied.append(name)
    return applied
