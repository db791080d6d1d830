"""A point-in-time read model: the log as it stood at a time T, in a throwaway schema.

Per partition of the events and commands topics, the records before the first one
whose timestamp is after T (Kafka's offset-for-time look-up), bulk-loaded into a new
schema exactly as a rebuild loads the whole log (projections/bulk.py). The cut is a
prefix of each partition, so the model is one the live projector could have held;
the live schema and its positions are never touched, and nothing is ever swapped.
Record timestamps are the producers' clocks at append time (occurred_at of events
is set by the same processes at about the same moment).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from aiokafka import TopicPartition

from projections import bulk
from projections.apply import POISON_ERRORS
from projections.catchup import catch_up
from projections.checksum import checksum
from projections.config import ProjectorSettings
from projections.db import MAX_IDENTIFIER, connect, quote_ident
from projections.kafka import log_ends_and_times
from projections.migrate import migrate
from projections.progress import ProgressCallback
from schemas.pg_ddl import create_once

# The catalog of point-in-time models the API may read (``?as_of=``): a schema of its
# own beside the live one, since a rebuild's swap replaces the live schema wholesale.
# api/reads/asof.py reads it by the same name; a model is in it only once complete.
CATALOG_SUFFIX = "_as_of"
CATALOG_DDL = (
    "CREATE TABLE IF NOT EXISTS {catalog}.models ("
    " as_of timestamptz PRIMARY KEY,"
    " schema_name text NOT NULL UNIQUE,"
    " migrations text[] NOT NULL,"  # what the model's schema was migrated to
    " records bigint NOT NULL,"
    " checksum text NOT NULL,"
    " built_at timestamptz NOT NULL DEFAULT now())"
)


def catalog_schema(live: str) -> str:
    return f"{live}{CATALOG_SUFFIX}"


class PointInTimeRefused(ValueError):
    """The schema can't be used (the live one, taken, too long): nothing was written."""


@dataclass(frozen=True)
class PointInTimeSummary:
    schema: str
    until: datetime
    records: int
    dead_lettered: int
    seconds: float
    checksum: str
    cut: dict[TopicPartition, int]  # per partition: records below this offset are in


def cut_offsets(
    ends: dict[TopicPartition, int], after: dict[TopicPartition, int | None]
) -> dict[TopicPartition, int]:
    """Per partition the first offset past T, or the end when nothing is past T."""
    cut: dict[TopicPartition, int] = {}
    for tp, end in ends.items():
        first_after = after.get(tp)
        cut[tp] = end if first_after is None else first_after
    return cut


async def build_as_of(
    settings: ProjectorSettings,
    schema: str,
    until: datetime,
    *,
    progress: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
) -> PointInTimeSummary:
    started = time.monotonic()
    if schema == settings.db_schema:
        raise PointInTimeRefused(f"{schema!r} is the live read model; name another schema")
    if len(schema) > MAX_IDENTIFIER:
        raise PointInTimeRefused(f"schema name {schema!r} is longer than {MAX_IDENTIFIER}")
    catalog = catalog_schema(settings.db_schema)
    if len(catalog) > MAX_IDENTIFIER:
        raise PointInTimeRefused(f"the catalog name {catalog!r} is longer than {MAX_IDENTIFIER}")
    if schema == catalog:
        raise PointInTimeRefused(f"{schema!r} holds the point-in-time catalog; name another")
    admin = await connect(settings.dsn, schema, purpose=f"as-of-{schema}")
    try:
        if await admin.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema):
            raise PointInTimeRefused(f"schema {schema!r} already exists; drop it or name another")
        other = await registered(admin, catalog, until)
        if other is not None:
            raise PointInTimeRefused(
                f"{other!r} already holds the model as of {until.isoformat()}; "
                f"drop it (DROP SCHEMA {quote_ident(other)} CASCADE) to build another"
            )
        await migrate(admin, schema)
        # Kafka timestamps are milliseconds: everything stamped at or before T's
        # millisecond is in.
        after_ms = int(until.timestamp() * 1000) + 1
        ends, after = await log_ends_and_times(settings.kafka, settings.topics, after_ms)
        cut = cut_offsets(ends, after)
        try:
            loaded = await bulk.load(settings, schema, cut, progress=progress, stop=stop)
            records, dead = loaded.records, loaded.dead_lettered
        except POISON_ERRORS:
            # A value PostgreSQL refuses: record by record, the projector dead-letters it.
            await admin.execute(f"DROP SCHEMA {quote_ident(schema)} CASCADE")
            await migrate(admin, schema)
            stats = await catch_up(
                settings,
                schema=schema,
                until=cut,
                start={},
                progress=progress,
                stop=stop,
                migrate_schema=False,
            )
            records, dead = stats.records, stats.dead_lettered
        digest = await checksum(admin, schema)
        await register(admin, catalog, schema, until, records, digest)
    finally:
        await admin.close()
    return PointInTimeSummary(
        schema=schema,
        until=until,
        records=records,
        dead_lettered=dead,
        seconds=time.monotonic() - started,
        checksum=digest,
        cut=cut,
    )


async def registered(conn: asyncpg.Connection, catalog: str, until: datetime) -> str | None:
    """The schema registered as the model as of ``until``, if it still exists."""
    if await conn.fetchval("SELECT to_regclass($1)", f"{quote_ident(catalog)}.models") is None:
        return None
    found: str | None = await conn.fetchval(
        f"SELECT m.schema_name FROM {quote_ident(catalog)}.models m"
        " JOIN pg_namespace n ON n.nspname = m.schema_name WHERE m.as_of = $1",
        until,
    )
    return found


async def register(
    conn: asyncpg.Connection,
    catalog: str,
    schema: str,
    until: datetime,
    records: int,
    digest: str,
) -> None:
    """Lists the finished model in the catalog (replacing a row whose schema was dropped)."""
    async with conn.transaction():
        await create_once(
            conn,
            catalog,
            f"CREATE SCHEMA IF NOT EXISTS {quote_ident(catalog)}",
            CATALOG_DDL.format(catalog=quote_ident(catalog)),
        )
        await conn.execute(
            f"INSERT INTO {quote_ident(catalog)}.models"
            " (as_of, schema_name, migrations, records, checksum)"
            f" SELECT $1, $2, array_agg(name ORDER BY name), $3, $4"
            f" FROM {quote_ident(schema)}.schema_migrations"
            " ON CONFLICT (as_of) DO UPDATE SET schema_name = EXCLUDED.schema_name,"
            " migrations = EXCLUDED.migrations, records = EXCLUDED.records,"
            " checksum = EXCLUDED.checksum, built_at = now()",
            until,
            schema,
            records,
            digest,
        )
