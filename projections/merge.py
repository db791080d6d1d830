"""The live projector's writes: a batch's records folded into their rows in a few round trips.

Per table the batch touches: one SELECT of the rows it names, the folds in log
order in memory, then one COPY of the changed rows into a session-local staging
table and one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` into the real one.
The audit index goes the same way with ``DO NOTHING`` (the first copy of an event
id wins). Every handler touches one row of one table, and the rows of different
tables never depend on each other, so folding table by table gives exactly what
applying the records one by one would. Batches of one projection never run
concurrently (the projection_state row lock), so nothing changes a loaded row
before it is written back.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Literal

import asyncpg

from projections.handlers import Handler
from projections.handlers.audit import LogPosition, event_row
from projections.tables import EVENT_COLUMNS, Row, Table
from schemas.base import Message
from schemas.codec import Decoded

TopicKind = Literal["events", "commands"]
Record = tuple[TopicKind, Decoded[Message]]
Route = Callable[[TopicKind, Decoded[Message]], list[Handler]]

EVENTS = "events"
_ORDINAL = "stage_ord"  # log order of the audit rows, so `position` follows it


def _stage(name: str) -> str:
    return f"stage_{name}"


def _quoted_columns(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def staging_ddl(table: str, columns: Sequence[str], extra: str = "") -> str:
    """A temporary table shaped like ``table`` (no constraints), emptied at every commit."""
    return (
        f"CREATE TEMP TABLE IF NOT EXISTS {_stage(table)} ON COMMIT DELETE ROWS AS"
        f" SELECT {extra}{_quoted_columns(columns)} FROM {table} WITH NO DATA"
    )


def upsert_sql(table: Table) -> str:
    cols = _quoted_columns(table.columns)
    sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in table.changeable)
    return (
        f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM pg_temp.{_stage(table.name)}"
        f' ON CONFLICT ("{table.key}") DO UPDATE SET {sets}'
    )


def insert_events_sql() -> str:
    cols = _quoted_columns(EVENT_COLUMNS)
    return (
        f"INSERT INTO {EVENTS} ({cols}) SELECT {cols} FROM pg_temp.{_stage(EVENTS)}"
        f" ORDER BY {_ORDINAL} ON CONFLICT (id) DO NOTHING"
    )


def select_sql(table: Table) -> str:
    return (
        f"SELECT {_quoted_columns(table.columns)} FROM {table.name}"
        f' WHERE "{table.key}" = ANY($1::{table.key_type}[])'
    )


def fold_batch(
    records: Sequence[Record], route: Route, at: Sequence[LogPosition] | None = None
) -> tuple[dict[Table, list[tuple[Hashable, Handler, Decoded[Message]]]], list[tuple[Any, ...]]]:
    """Per table the folds to run in log order, and the batch's audit rows (first copy).

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
            audit.append((len(audit), *event_row(env, at[n] if at is not None else None)))
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
    """Folds the records into their rows and writes them in the caller's transaction."""
    if not records:
        return
    steps, audit = fold_batch(records, route, at)
    # Every time (a catalog look-up when they exist): a rolled-back transaction takes
    # the staging tables it created with it. Only the tables this batch touches, so
    # a build that lacks a table's handlers need not know its columns either.
    ddl = [staging_ddl(t.name, t.columns) for t in steps]
    stages = [f"pg_temp.{_stage(t.name)}" for t in steps]
    if audit:
        ddl.append(staging_ddl(EVENTS, EVENT_COLUMNS, f"0::int AS {_ORDINAL}, "))
        stages.append(f"pg_temp.{_stage(EVENTS)}")
    # Emptied first: "delete rows on commit" does not fire at a savepoint, so when a
    # refused record makes the batch go record by record, the earlier records' rows
    # would still be staged and merged twice (a key twice in one upsert is an error).
    ddl.append("TRUNCATE " + ", ".join(stages))
    await conn.execute(";\n".join(ddl))
    for table, todo in steps.items():
        keys = list({key for key, _, _ in todo})
        loaded = await conn.fetch(select_sql(table), keys)
        rows: dict[Hashable, Row] = {r[table.key]: dict(r) for r in loaded}
        changed = apply_folds(rows, todo)
        if changed:
            values = [table.values(row) for row in changed.values()]
            await copy_rows(conn, _stage(table.name), table.columns, values, schema="pg_temp")
            await conn.execute(upsert_sql(table))
    if audit:
        columns = (_ORDINAL, *EVENT_COLUMNS)
        await copy_rows(conn, _stage(EVENTS), columns, audit, schema="pg_temp")
        await conn.execute(insert_events_sql())


async def copy_rows(
    conn: asyncpg.Connection,
    table: str,
    columns: Sequence[str],
    records: Sequence[tuple[Any, ...]],
    *,
    schema: str,
) -> None:
    """COPY, with a value asyncpg cannot encode reported as the DataError that a
    statement parameter would raise (e.g. an integer beyond int4): the record's fault."""
    try:
        await conn.copy_records_to_table(
            table, schema_name=schema, columns=list(columns), records=records
        )
    except (OverflowError, ValueError, TypeError) as exc:
        raise asyncpg.DataError(f"invalid value for {table}: {exc}") from exc
