"""Keyset pagination with opaque cursors, and query-string parsing for list endpoints."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from api.backends.postgres import Database
from api.problems import Problem, field_error, from_validation_error

Q = TypeVar("Q", bound=BaseModel)
T = TypeVar("T", bound=BaseModel)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class ListQuery(BaseModel):
    """Query parameters every list takes; unknown parameters (``org_id``…) are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=512)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the query.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def parse_query(request: web.Request, model: type[Q], skip: frozenset[str] = frozenset()) -> Q:
    """``skip``: parameters another layer reads (``as_of``), not the list's own."""
    # One value per parameter: a repeated parameter is ambiguous, so the first one counts.
    params = {name: request.query.getone(name) for name in request.query if name not in skip}
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise from_validation_error(exc, "query") from exc


def uuid_key(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValueError("not a uuid")
    return uuid.UUID(value)


def encode_cursor(key: str | int | list[Any]) -> str:
    """An opaque cursor around ``key`` (JSON: a string, a number or a list of them)."""
    raw = json.dumps({"k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, parse: Callable[[Any], Any]) -> Any:
    """The key a cursor carries, parsed by ``parse``; 422 for anything we did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return parse(json.loads(raw)["k"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise Problem(
            422,
            "the cursor is not one this API issued",
            kind="validation",
            title="Invalid request",
            errors=[field_error(["query", "cursor"], "invalid cursor")],
        ) from exc


class Where:
    """SQL conditions with numbered parameters; values only ever travel as $n."""

    def __init__(self, org_id: str) -> None:
        self.clauses: list[str] = ["org_id = $1"]
        self.params: list[Any] = [org_id]

    def add(self, clause: str, value: Any) -> None:
        """``clause`` holds one ``{}`` where the parameter goes, e.g. ``"status = {}"``."""
        self.params.append(value)
        self.clauses.append(clause.format(f"${len(self.params)}"))

    def maybe(self, clause: str, value: Any) -> None:
        if value is not None:
            self.add(clause, value)

    def sql(self) -> str:
        return " AND ".join(self.clauses)


async def fetch_page(
    db: Database,
    select: str,
    where: Where,
    key: str,
    query: ListQuery,
    parse_key: Callable[[Any], Any],
    to_dto: Callable[[asyncpg.Record], T],
    cursor_of: Callable[[T], str | int],
) -> Page[T]:
    """``select`` is ``SELECT ... FROM table``; rows come in ``key`` order after the cursor."""
    if query.cursor is not None:
        where.add(f"{key} > {{}}", decode_cursor(query.cursor, parse_key))
    where.params.append(query.limit + 1)  # one more than asked says whether a next page exists
    sql = f"{select} WHERE {where.sql()} ORDER BY {key} LIMIT ${len(where.params)}"
    rows: Sequence[asyncpg.Record] = await db.fetch(sql, *where.params)
    items = [to_dto(r) for r in rows[: query.limit]]
    more = len(rows) > query.limit
    return Page(items=items, next_cursor=encode_cursor(cursor_of(items[-1])) if more else None)
