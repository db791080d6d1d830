"""The audit trail: every event of an organization, in the order the events happened.

Pages come in (occurred_at, sequence, id) order and the cursor carries those three of
the page's last event: values from the event itself, so a rebuilt read model holds
the same rows in the same order and a cursor taken before a rebuild's swap gives the
same next page after it. (``position``, the order rows reached this schema, differs
after a rebuild; it is still shown, but nothing pages by it.)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import AwareDatetime, BaseModel, Field, field_validator

from api.backends.postgres import Database
from api.reads.paging import ListQuery, Page, Where, decode_cursor, encode_cursor
from api.storable import in_utc_range

COLUMNS = (
    "id, type, version, aggregate_type, aggregate_id, sequence, occurred_at, command_id, "
    "correlation_id, causation_id, actor, data, position, log_topic, log_partition, log_offset"
)
ORDER = "occurred_at, sequence, id"
MAX_SEQUENCE = 2**31 - 1  # the column is an integer


class AuditEvent(BaseModel):
    id: uuid.UUID
    type: str
    version: int
    aggregate_type: str
    aggregate_id: uuid.UUID
    sequence: int
    occurred_at: datetime
    command_id: uuid.UUID
    correlation_id: uuid.UUID
    causation_id: uuid.UUID
    actor: dict[str, Any]
    data: dict[str, Any]
    # Arrival order in this read model: renumbered by a rebuild, never a cursor.
    position: int
    # Where the event is on the log (null for events projected before these were kept,
    # until the next rebuild fills them in).
    log_topic: str | None
    log_partition: int | None
    log_offset: int | None


class AuditQuery(ListQuery):
    aggregate_id: uuid.UUID | None = None
    type: str | None = Field(default=None, max_length=200)
    since: AwareDatetime | None = None

    @field_validator("since")
    @classmethod
    def _in_range(cls, value: datetime | None) -> datetime | None:
        if value is not None and not in_utc_range(value):
            raise ValueError("the date is out of range once converted to UTC")
        return value


AuditKey = tuple[datetime, int, uuid.UUID]


def _dto(row: asyncpg.Record) -> AuditEvent:
    return AuditEvent.model_validate(dict(row))


def cursor_key(event: AuditEvent) -> list[Any]:
    return [event.occurred_at.isoformat(), event.sequence, str(event.id)]


def parse_key(value: Any) -> AuditKey:
    """A cursor's key: ``[occurred_at ISO, sequence, id]`` of the page's last event."""
    if not isinstance(value, list) or len(value) != 3:
        raise ValueError("not an audit cursor")
    at_text, sequence, id_text = value
    if not isinstance(at_text, str) or not isinstance(id_text, str):
        raise ValueError("not an audit cursor")
    if not isinstance(sequence, int) or isinstance(sequence, bool):
        raise ValueError("not an audit cursor")
    if not 0 <= sequence <= MAX_SEQUENCE:
        raise ValueError("not an audit cursor")
    at = datetime.fromisoformat(at_text)
    if at.tzinfo is None or not in_utc_range(at):
        raise ValueError("not an audit cursor")
    return at, sequence, uuid.UUID(id_text)


async def list_events(db: Database, org_id: str, query: AuditQuery) -> Page[AuditEvent]:
    where = Where(org_id)
    where.maybe("aggregate_id = {}", query.aggregate_id)
    where.maybe("type = {}", query.type)
    where.maybe("occurred_at >= {}", query.since)
    if query.cursor is not None:
        at, sequence, last = decode_cursor(query.cursor, parse_key)
        where.params.extend((at, sequence, last))
        n = len(where.params)
        where.clauses.append(f"({ORDER}) > (${n - 2}, ${n - 1}, ${n})")
    where.params.append(query.limit + 1)  # one more than asked says whether there is more
    sql = (
        f"SELECT {COLUMNS} FROM events WHERE {where.sql()} "
        f"ORDER BY {ORDER} LIMIT ${len(where.params)}"
    )
    rows: Sequence[asyncpg.Record] = await db.fetch(sql, *where.params)
    items = [_dto(r) for r in rows[: query.limit]]
    more = len(rows) > query.limit
    return Page(items=items, next_cursor=encode_cursor(cursor_key(items[-1])) if more else None)
