"""One record in, one verdict out: applied to the read model, or poison for the DLQ.

A statement that fails aborts the whole PostgreSQL transaction, so a record that
may fail runs in its own SAVEPOINT: one bad record must not take the good records
of its batch down with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import asyncpg
import structlog

from projections.handlers import COMMAND_HANDLER, EVENT_HANDLERS, Handler
from projections.handlers.audit import record_event
from schemas.catalog import COMMAND_TYPES, EVENT_TYPES
from schemas.codec import DecodeError, decode
from schemas.envelope import Envelope

log = structlog.get_logger(__name__)

TopicKind = Literal["events", "commands"]

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


def parse(kind: TopicKind, raw: bytes | None) -> Envelope | Poison:
    """Decodes a record of the given topic, or says why it belongs in the DLQ."""
    try:
        env = decode(raw)
    except DecodeError as exc:
        return Poison(str(exc))
    if kind == "events":
        if env.type not in EVENT_TYPES:
            return Poison(f"{env.type} is not an event type (found on the events topic)")
        if env.sequence is None:
            return Poison(f"{env.type} {env.id} has no sequence")
    elif env.type not in COMMAND_TYPES:
        return Poison(f"{env.type} is not a command type (found on the commands topic)")
    return env


async def apply(
    conn: asyncpg.Connection, kind: TopicKind, env: Envelope, *, guarded: bool = True
) -> Verdict:
    """Writes one decoded record in the caller's transaction.

    Guarded, the record runs in a savepoint and a poison error becomes a verdict;
    unguarded (the fast path: two round trips fewer per record), the error propagates
    and aborts the transaction, and the caller redoes the batch guarded.
    """
    handler = COMMAND_HANDLER if kind == "commands" else EVENT_HANDLERS.get(env.type)
    if guarded:
        try:
            async with conn.transaction():
                await _write(conn, kind, env, handler)
        except POISON_ERRORS as exc:
            return Poison(f"{type(exc).__name__}: {exc}")
    else:
        await _write(conn, kind, env, handler)
    if handler is None:
        log.debug("event without handler: audit index only", event_id=str(env.id), type=env.type)
        return "audited"
    return "applied"


async def _write(
    conn: asyncpg.Connection, kind: TopicKind, env: Envelope, handler: Handler | None
) -> None:
    if kind == "events":
        await record_event(conn, env)
    if handler is not None:
        await handler(conn, env)
