"""Several writes of one transaction sent as one statement: one round trip, not one each.

A live batch ends with an upsert per table it touched, the audit index's insert and
the positions' upsert. Sent one by one, each is a round trip to PostgreSQL (on a
busy machine, a wake-up of the server and of us each way); as data-modifying CTEs of
one statement (``WITH w0 AS (INSERT ...), w1 AS (INSERT ...) INSERT ...``) they go
in one. PostgreSQL runs every data-modifying CTE exactly once and to completion
whether or not the main query reads it. The writes see one snapshot and none sees
another's rows, which is what they need: each writes another table and reads none
(no triggers on these tables). An error in any of them fails the statement, as it
would have failed the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import asyncpg

_PARAMETER = re.compile(r"\$(\d+)")


@dataclass(frozen=True)
class Write:
    """One data-modifying statement (INSERT/UPDATE/DELETE without RETURNING), its
    parameters numbered $1..$n, and their values."""

    sql: str
    args: tuple[Any, ...]


@lru_cache(maxsize=256)
def combined_sql(statements: tuple[tuple[str, int], ...]) -> str:
    """The statements (SQL, number of parameters) as one, parameters renumbered in order.

    Our SQL is generated from the catalog's names: no literal or quoted identifier
    holds a ``$``, so renumbering by pattern is exact."""
    parts = []
    offset = 0
    for sql, count in statements:
        parts.append(_PARAMETER.sub(partial(_shifted, offset), sql))
        offset += count
    *ctes, main = parts
    if not ctes:
        return main
    return "WITH " + ", ".join(f"w{n} AS ({sql})" for n, sql in enumerate(ctes)) + " " + main


def _shifted(offset: int, parameter: re.Match[str]) -> str:
    return f"${int(parameter.group(1)) + offset}"


async def execute_all(conn: asyncpg.Connection, writes: Sequence[Write]) -> None:
    """Runs ``writes`` as one statement (the same SQL text, hence one prepared statement
    in asyncpg's cache, for the same shape of writes)."""
    if not writes:
        return
    sql = combined_sql(tuple((w.sql, len(w.args)) for w in writes))
    await conn.execute(sql, *(arg for w in writes for arg in w.args))
