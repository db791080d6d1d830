"""The live projector's writes: a batch's records folded into their rows in two round trips.

One query reads the rows the batch names, in every table it touches (each table's
as an array of its row type); the folds run in log order in memory; per table, an
``INSERT ... SELECT ... FROM unnest($1::<table>[]) ON CONFLICT DO UPDATE`` writes
the changed rows, passed as one array of the table's own row type (binary, no
staging table to create, empty or truncate at commit). The audit index goes the
same way with ``DO NOTHING`` (the first copy of an event id wins), in log order
(``WITH ORDINALITY``). Those writes, and the batch's positions, go to the server
as one statement (projections/combined.py). Every handler
touches one row of one table, and the rows of different tables never depend on
each other, so folding table by table gives exactly what applying the records one
by one would. Batches of one projection never run concurrently (the
projection_state row lock), so nothing changes a loaded row before it is written
back.

A row-type array carries every attribute of the table in the table's order, so
``Table.columns`` is that order (EVENT_ROW_TYPE for the audit index, which has a
``position`` of its own); tests/integration/projections/test_row_types.py pins it
against the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any, Literal

import asyncpg

from projections.combined import Write, execute_all
from projections.handlers import Handler
from projections.handlers.audit import LogPosition, event_row
from projections.tables import EVENT_COLUMNS, EVENT_ROW_TYPE, Row, Table
from schemas.base import Message
from schemas.codec import Decoded

TopicKind = Literal["events", "commands"]
Record = tuple[TopicKind, Decoded[Message]]
Route = Callable[[TopicKind, Decoded[Message]], list[Handler]]
# Per table, the folds to run in log order: (row key, handler, record).
Steps = dict[Table, list[tuple[Hashable, Handler, Decoded[Message]]]]

EVENTS = "events"

# An audit row (EVENT_COLUMNS order) laid out as the events row type; the slot of a
# column the projector leaves to its default (`position`) holds None, never read.
_as_event_row_type = itemgetter(
    *(EVENT_COLUMNS.index(c) if c in EVENT_COLUMNS else len(EVENT_COLUMNS) for c in EVENT_ROW_TYPE)
)


def _quoted_columns(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def upsert_sql(table: Table) -> str:
    cols = _quoted_columns(table.columns)
    sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in table.changeable)
    return (
        f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM unnest($1::{table.name}[])"
        f' ON CONFLICT ("{table.key}") DO UPDATE SET {sets}'
    )


def insert_events_sql() -> str:
    cols = _quoted_columns(EVENT_COLUMNS)
    return (
        f"INSERT INTO {EVENTS} ({cols}) SELECT {cols}"
        f" FROM unnest($1::{EVENTS}[]) WITH ORDINALITY AS u ORDER BY u.ordinality"
        " ON CONFLICT (id) DO NOTHING"
    )


@lru_cache(maxsize=64)
def select_sql(tables: tuple[Table, ...]) -> str:
    """One query for the rows of every table a batch touches: one column per table, the
    rows as an array of its row type ($n: the keys of the n-th table). One round trip
    whatever the number of tables; ``x.*`` names the whole row even where a column
    has the table's alias for a name."""
    columns = (
        f'(SELECT array_agg(x.*) FROM {table.name} x WHERE x."{table.key}"'
        f" = ANY(${n}::{table.key_type}[]))"
        for n, table in enumerate(tables, 1)
    )
    return "SELECT " + ", ".join(columns)


def fold_batch(
    records: Sequence[Record], route: Route, at: Sequence[LogPosition] | None = None
) -> tuple[Steps, list[tuple[Any, ...]]]:
    """Per table the folds to run in log order, and the batch's audit rows (first copy,
    in log order, laid out as the events row type).

    ``at``: each record's place on the log, in the same order, for the audit index."""
    steps: Steps = {}
    audit: list[tuple[Any, ...]] = []
    seen: set[Any] = set()
    for n, (kind, decoded) in enumerate(records):
        env = decoded.envelope
        for handler in route(kind, decoded):
            steps.setdefault(handler.table, []).append((handler.key(env), handler, decoded))
        if kind == "events" and env.id not in seen:
            seen.add(env.id)
            row = event_row(env, at[n] if at is not None else None)
            audit.append(_as_event_row_type((*row, None)))
    return steps, audit


def apply_folds(
    rows: dict[Hashable, Row], steps: Sequence[tuple[Hashable, Handler, Decoded[Message]]]
) -> dict[Hashable, Row]:
    """Runs the folds over ``rows`` (changed in place); returns the rows that changed."""
    changed: dict[Hashable, Row] = {}
    for key, handler, decoded in steps:
        old = rows.get(key)
        new = handler.fold(old, decoded)
        if new is not old and new is not None:
            rows[key] = changed[key] = new
    return changed


async def write(
    conn: asyncpg.Connection,
    records: Sequence[Record],
    route: Route,
    at: Sequence[LogPosition] | None = None,
    also: Sequence[Write] = (),
) -> None:
    """Folds the records into their rows and writes them in the caller's transaction:
    one query for the rows of every table touched, then every changed row, the audit
    rows and ``also`` (the batch's positions) in one statement (projections/combined.py).

    A value asyncpg cannot encode (e.g. an integer beyond int4) raises DataError, as
    one the server refuses does: the record's fault, dead-lettered by the caller."""
    writes: list[Write] = []
    steps, audit = fold_batch(records, route, at)
    for table, rows in (await _load(conn, steps)).items():
        changed = apply_folds(rows, steps[table])
        if changed:
            values = [table.values(row) for row in changed.values()]
            writes.append(Write(upsert_sql(table), (values,)))
    if audit:
        writes.append(Write(insert_events_sql(), (audit,)))
    await execute_all(conn, [*writes, *also])


async def _load(conn: asyncpg.Connection, steps: Steps) -> dict[Table, dict[Hashable, Row]]:
    """The stored rows the folds name, by table and key (one query for every table)."""
    tables = tuple(steps)
    if not tables:
        return {}
    keys = [list({key for key, _, _ in steps[table]}) for table in tables]
    found = await conn.fetchrow(select_sql(tables), *keys)
    assert found is not None  # a SELECT without FROM: always one row
    return {
        table: {r[table.key]: dict(r) for r in found[n] or ()} for n, table in enumerate(tables)
    }
