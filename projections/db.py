"""PostgreSQL connections for the projections: one schema per connection, JSON codecs."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from pydantic_core import to_json

# PostgreSQL truncates identifiers longer than this (NAMEDATALEN - 1).
MAX_IDENTIFIER = 63

CONNECT_TIMEOUT = 10.0


async def connect(dsn: str, schema: str, *, purpose: str) -> asyncpg.Connection:
    """A connection whose unqualified table names resolve in ``schema``.

    The application name shows up in pg_stat_activity, so an operator (and the
    fault-injection tests) can tell the projector's sessions apart.
    """
    conn = await asyncpg.connect(
        dsn,
        timeout=CONNECT_TIMEOUT,
        server_settings={
            "search_path": schema,
            "application_name": f"wavestack-{purpose}"[:MAX_IDENTIFIER],
            # Timestamps come back as aware UTC datetimes whatever the server default.
            "TimeZone": "UTC",
        },
    )
    # Binary format: COPY (bulk.py) has no text-format path, and the live projector's
    # row-type arrays (merge.py) encode their jsonb fields with this codec too. A
    # jsonb value on the wire in binary is a version byte (1) and the JSON text.
    await conn.set_type_codec(
        "jsonb",
        encoder=_jsonb_encode,
        decoder=_jsonb_decode,
        schema="pg_catalog",
        format="binary",
    )
    return conn


def _jsonb_encode(value: Any) -> bytes:
    # pydantic-core's serializer: the same JSON values as json.dumps (PostgreSQL
    # normalises jsonb, so spacing and escapes don't matter), about five times faster.
    return b"\x01" + to_json(value)


def _jsonb_decode(data: bytes) -> Any:
    return json.loads(data[1:])


def quote_ident(name: str) -> str:
    """A schema or table name as a quoted identifier (names come from Settings or the catalog)."""
    if len(name) > MAX_IDENTIFIER:
        raise ValueError(f"identifier {name!r} is longer than {MAX_IDENTIFIER} characters")
    return '"' + name.replace('"', '""') + '"'
