"""The live projector passes rows as arrays of each table's own row type
(projections/merge.py), whose fields are the table's attributes in the table's
order: the column lists in projections/tables.py must be exactly that order."""

from __future__ import annotations

import asyncpg
import pytest

from projections.tables import EVENT_ROW_TYPE, FOLDED, Table

ATTRIBUTES = (
    "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass"
    " AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
)


async def attributes(db: asyncpg.Connection, table: str) -> tuple[str, ...]:
    return tuple(r["attname"] for r in await db.fetch(ATTRIBUTES, table))


@pytest.mark.parametrize("table", FOLDED, ids=lambda t: t.name)
async def test_a_folded_tables_columns_are_its_row_type_in_order(
    db: asyncpg.Connection, table: Table
) -> None:
    assert await attributes(db, table.name) == table.columns


async def test_the_audit_index_row_type_is_the_events_table_in_order(
    db: asyncpg.Connection,
) -> None:
    assert await attributes(db, "events") == EVENT_ROW_TYPE
