"""Records in, verdicts out: decoded once, folded into their rows, or poison for the DLQ.

A statement that fails aborts the whole PostgreSQL transaction, so a record that
may fail runs in its own SAVEPOINT: one bad record must not take the good records
of its batch down with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import asyncpg

from projections import merge
from projections.combined import Write
from projections.handlers import (
    ALSO_FOLDED_INTO,
    COMMAND_HANDLER,
    EVENT_HANDLERS,
    ORGANIZATION_HANDLER,
    Handler,
)
from projections.handlers.audit import LogPosition
from projections.merge import TopicKind
from schemas.base import Message
from schemas.catalog import COMMAND_TYPES, EVENT_TYPES
from schemas.codec import Decoded, DecodeError, read

# Errors that are the record's fault: replaying it would fail the same way forever.
# Anything else (connection lost, server restarting, a bug of ours) is transient:
# the batch is retried and nothing is dead-lettered for it.
POISON_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    DecodeError,
)


@dataclass(frozen=True)
class Poison:
    reason: str


Verdict = Literal["applied", "audited"] | Poison


def parse(kind: TopicKind, raw: bytes | None) -> Decoded[Message] | Poison:
    """Decodes (and validates) a record of the given topic once, or says why it is poison."""
    try:
        decoded = read(raw)
    except DecodeError as exc:
        return Poison(str(exc))
    env = decoded.envelope
    if kind == "events":
        if env.type not in EVENT_TYPES:
            return Poison(f"{env.type} is not an event type (found on the events topic)")
        if env.sequence is None:
            return Poison(f"{env.type} {env.id} has no sequence")
    elif env.type not in COMMAND_TYPES:
        return Poison(f"{env.type} is not a command type (found on the commands topic)")
    return decoded


def handlers_for(kind: TopicKind, decoded: Decoded[Message]) -> list[Handler]:
    """The rows a record folds into (an event also lands in the audit index)."""
    if kind == "commands":
        return [COMMAND_HANDLER]
    handler = EVENT_HANDLERS.get(decoded.envelope.type)
    if handler is None:
        return [ORGANIZATION_HANDLER]
    return [ORGANIZATION_HANDLER, handler, *ALSO_FOLDED_INTO.get(decoded.envelope.type, ())]


def verdict(kind: TopicKind, decoded: Decoded[Message]) -> Literal["applied", "audited"]:
    if kind == "events" and decoded.envelope.type not in EVENT_HANDLERS:
        return "audited"  # no handler for the type: audit index only
    return "applied"


async def apply_all(
    conn: asyncpg.Connection,
    records: Sequence[merge.Record],
    at: Sequence[LogPosition] | None = None,
    also: Sequence[Write] = (),
) -> None:
    """Writes the records in the caller's transaction, in a few round trips; a poison
    error propagates and aborts the transaction (the caller redoes it with apply_one).
    ``at``: each record's place on the log, for the audit index; ``also``: writes to
    send with the records' (the batch's positions)."""
    await merge.write(conn, records, handlers_for, at, also)


async def apply_one(
    conn: asyncpg.Connection, record: merge.Record, at: LogPosition | None = None
) -> Verdict:
    """Writes one record in a savepoint: a poison error becomes a verdict."""
    try:
        async with conn.transaction():
            await merge.write(conn, [record], handlers_for, None if at is None else [at])
    except POISON_ERRORS as exc:
        return Poison(f"{type(exc).__name__}: {exc}")
    return verdict(*record)
