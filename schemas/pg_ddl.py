"""Idempotent DDL that any number of processes starting at once may run.

``CREATE SCHEMA IF NOT EXISTS`` and ``CREATE TABLE IF NOT EXISTS`` are not safe
under concurrency in PostgreSQL: two sessions that both find a name free both
insert it into the catalog, and the second fails with a unique violation on
``pg_namespace`` or ``pg_type`` (seen when a publisher and an integrations worker
started together and both created the vault's schema). Here the statements go to
the server as one simple query, which PostgreSQL runs as one transaction, behind
an advisory lock on ``key``: the first session creates, the others wait for it and
then find everything in place.

Here, below every package, because the vault, the projections and the streams
processes all create tables beside the read model. Driver-free like the rest of
``schemas``: ``conn`` is the caller's (anything with asyncpg's ``execute``). Called
inside an open transaction, the lock is held until that transaction ends.
"""

from __future__ import annotations

from typing import Any, Protocol


class Executes(Protocol):
    async def execute(self, query: str, *args: Any) -> str: ...


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def create_once(conn: Executes, key: str, *statements: str) -> None:
    """Runs ``statements`` (idempotent DDL) as one transaction, one session at a time per
    ``key`` across every process on the database."""
    lock = f"SELECT pg_advisory_xact_lock(hashtext({_literal('ddl:' + key)}))"
    # No arguments: asyncpg sends the string as a simple query, one implicit transaction.
    await conn.execute(";\n".join((lock, *statements)))
