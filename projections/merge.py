"""The live projector's writes: a batch's records folded into their rows in a few round trips.

Per table the batch touches: one SELECT of the rows it names, the folds in log
order in memory, then one ``INSERT ... SELECT ... FROM unnest($1::<table>[]) ON
CONFLICT DO UPDATE`` of the changed rows, passed as one array of the table's own
row type (one prepared statement, binary, no staging table to create, empty or
truncate at commit). The audit index goes the same way with ``DO NOTHING`` (the
first copy of an event id wins), in log order (``WITH ORDINALITY``). Every handler
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
from operator import itemgetter
from typing import Any, Literal

import asyncpg

from projections.handlers import Handler
from projections.handlers.audit import LogPosition, event_row
from projections.tables import EVENT_COLUMNS, EVENT_ROW_TYPE, Row, Table
from schemas.base import Message
from schemas.codec import Decoded

TopicKind = Literal["events", "commands"]
Record = tuple[TopicKind, Decoded[Message]]
Route = Callable[[TopicKind, Decoded[Message]], list[Handler]]

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


def select_sql(table: Table) -> str:
    return (
        f"SELECT {_quoted_columns(table.columns)} FROM {table.name}"
        f' WHERE "{table.key}" = ANY($1::{table.key_type}[])'
    )


def fold_batch(
    records: Sequence[Record], route: Route, at: Sequence[LogPosition] | None = None
) -> tuple[dict[Table, list[tuple[Hashable, Handler, Decoded[Message]]]], list[tuple[Any, ...]]]:
    """Per table the folds to run in log order, and the batch's audit rows (first copy,
    in log order, laid out as the events row type).

    ``at``: each record's place on the log, in the same order, for the audit index."""
    steps: dict[Table, list[tuple[Hashable, Handler, Decoded[Message]]]] = {}
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
) -> None:
    """Folds the records into their rows and writes them in the caller's transaction.

    A value asyncpg cannot encode (e.g. an integer beyond int4) raises DataError, as
    one the server refuses does: the record's fault, dead-lettered by the caller."""
    if not records:
        return
    steps, audit = fold_batch(records, route, at)
    for table, todo in steps.items():
        keys = list({key for key, _, _ in todo})
        loaded = await conn.fetch(select_sql(table), keys)
        rows: dict[Hashable, Row] = {r[table.key]: dict(r) for r in loaded}
        changed = apply_folds(rows, todo)
        if changed:
            await conn.execute(upsert_sql(table), [table.values(row) for row in changed.values()])
    if audit:
        await conn.execute(insert_events_sql(), audit)
