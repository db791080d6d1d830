"""``?as_of=T`` on the list and get routes: the read model as it stood at T, if an
operator built it.

An operator builds a point-in-time model with ``wavestack rebuild --until-time T
--schema NAME``; when it is complete, the build lists it in the catalog
``<live>_as_of.models`` (projections/pointintime.py): T, the schema, the migrations
it was built with. A client names only the time. The schema comes from that catalog,
never from the request, and the same org-scoped queries run against it, inside a
read-only transaction whose ``search_path`` is set with ``SET LOCAL`` semantics (the
pool's sessions are not reset on release, so a session-wide setting would leak into
the next request). A time nobody built, a model whose schema was dropped, or one
built before the read model's latest migration answers 422 on ``as_of``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError, field_validator

from api.appkeys import DATABASE
from api.backends.errors import Unavailable
from api.backends.postgres import DEPENDENCY, Connection, Database
from api.problems import Problem, field_error, from_validation_error
from api.storable import in_utc_range

PARAM = "as_of"
CATALOG_SUFFIX = "_as_of"  # projections/pointintime.py names the catalog the same way
MAX_IDENTIFIER = 63

# The handlers that honour ``as_of`` (reads.handlers.lister / getter add theirs), so
# the OpenAPI document lists the parameter exactly where it works.
SUPPORTED: set[Callable[..., Any]] = set()


class AsOf(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    as_of: AwareDatetime | None = None

    @field_validator("as_of")
    @classmethod
    def _in_range(cls, value: datetime | None) -> datetime | None:
        if value is not None and not in_utc_range(value):
            raise ValueError("the date is out of range once converted to UTC")
        return value


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PinnedSchema(Database):
    """The same reads as ``base``, against another schema of the same database.

    Only the reads' interface (``connection``, ``fetch``, ``fetchrow``) is served;
    the pool, its lifecycle and health checks stay ``base``'s.
    """

    def __init__(self, base: Database, schema: str) -> None:  # no pool of its own
        self._base = base
        self._pinned = schema

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        async with self._base.connection() as conn, conn.transaction(readonly=True):
            # is_local=true: undone when the transaction ends, like SET LOCAL.
            await conn.execute(
                "SELECT set_config('search_path', $1, true)", quote_ident(self._pinned)
            )
            yield conn

    async def check(self) -> None:
        await self._base.check()

    async def close(self) -> None:
        """Nothing to close: the pool is ``base``'s."""


def parse_as_of(request: web.Request) -> datetime | None:
    if PARAM not in request.query:
        return None
    try:
        return AsOf.model_validate({PARAM: request.query.getone(PARAM)}).as_of
    except ValidationError as exc:
        raise from_validation_error(exc, "query") from exc


def _no_model(detail: str) -> Problem:
    return Problem(
        422,
        detail,
        kind="validation",
        title="Invalid request",
        errors=[field_error(["query", PARAM], detail)],
    )


async def resolve(db: Database, as_of: datetime) -> str:
    """The schema of the complete, current point-in-time model as of ``as_of``; else 422."""
    async with db.connection() as conn:
        live: str | None = await conn.fetchval("SELECT current_schema()")
        if live is None:  # the live schema does not exist yet: as for any read
            raise Unavailable(DEPENDENCY, "the read model is not migrated yet")
        catalog = live + CATALOG_SUFFIX
        if len(catalog) > MAX_IDENTIFIER or (
            await conn.fetchval("SELECT to_regclass($1)", f"{quote_ident(catalog)}.models") is None
        ):
            row = None
        else:
            row = await conn.fetchrow(
                "SELECT m.schema_name, n.oid IS NOT NULL AS present,"
                " (SELECT coalesce(array_agg(name), '{}') FROM schema_migrations)"
                " <@ m.migrations AS current"
                f" FROM {quote_ident(catalog)}.models m"
                " LEFT JOIN pg_namespace n ON n.nspname = m.schema_name WHERE m.as_of = $1",
                as_of,
            )
    if row is None or not row["present"]:
        raise _no_model(
            f"no point-in-time read model as of {as_of.isoformat()} was built; "
            "an operator builds one with wavestack rebuild --until-time"
        )
    if not row["current"]:
        raise _no_model(
            f"the read model as of {as_of.isoformat()} was built before the latest "
            "migration of the read model; an operator must build it again"
        )
    schema: str = row["schema_name"]
    return schema


async def read_model(request: web.Request) -> Database:
    """The live read model, or the point-in-time one ``?as_of=`` names."""
    db = request.app[DATABASE]
    as_of = parse_as_of(request)
    if as_of is None:
        return db
    return PinnedSchema(db, await resolve(db, as_of))
