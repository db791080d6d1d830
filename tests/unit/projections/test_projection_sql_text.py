"""SQL text built from names: checksum rows, rebuild schema names, identifiers, writes
sent as one statement."""

from __future__ import annotations

import pytest

from projections.checksum import row_query
from projections.combined import combined_sql
from projections.db import quote_ident
from projections.rebuild import rebuild_names


def test_the_checksum_leaves_out_arrival_order_and_orders_rows_by_primary_key() -> None:
    query = row_query("live", "events", ["id", "type", "position"], ["id"])

    assert query == 'SELECT ROW("id", "type")::text FROM "live"."events" ORDER BY "id"'


def test_a_table_without_primary_key_is_ordered_by_all_its_columns() -> None:
    query = row_query("live", "notes", ["a", "b"], [])

    assert query.endswith('ORDER BY "a", "b"')


def test_a_rebuild_gets_a_schema_beside_the_live_one_and_a_name_for_the_old_one() -> None:
    assert rebuild_names("wavestack", "20250301120000") == (
        "wavestack_rebuild_20250301120000",
        "wavestack_old_20250301120000",
    )


def test_a_live_schema_name_too_long_to_rebuild_beside_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        rebuild_names("s" * 41, "20250301120000")


def test_identifiers_are_quoted_and_double_quotes_inside_them_doubled() -> None:
    assert quote_ident('we"ird') == '"we""ird"'


def test_writes_sent_together_become_ctes_of_the_last_parameters_renumbered() -> None:
    sql = combined_sql(
        (
            ("INSERT INTO a SELECT * FROM unnest($1::a[])", 1),
            ("INSERT INTO o SELECT $1, t FROM unnest($2::text[], $3::int[], $4::bigint[])", 4),
            ("INSERT INTO e SELECT * FROM unnest($1::e[])", 1),
        )
    )

    assert sql == (
        "WITH w0 AS (INSERT INTO a SELECT * FROM unnest($1::a[])),"
        " w1 AS (INSERT INTO o SELECT $2, t FROM unnest($3::text[], $4::int[], $5::bigint[]))"
        " INSERT INTO e SELECT * FROM unnest($6::e[])"
    )


def test_a_write_sent_alone_is_left_as_it_is() -> None:
    assert combined_sql((("DELETE FROM t WHERE id = $1", 1),)) == "DELETE FROM t WHERE id = $1"
