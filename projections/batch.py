"""One batch, one transaction: the fence, the records in log order, dead letters, positions.

The records are decoded once, then written together (projections/merge.py); only
when the database refuses one of them is the batch redone record by record, each in
its own savepoint, so the one bad record goes to the DLQ and the rest commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, fields

import asyncpg
import structlog
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from projections import positions
from projections.apply import POISON_ERRORS, Poison, apply_all, apply_one, parse, verdict
from projections.combined import execute_all
from projections.deadletter import DeadLetters, source_of
from projections.handlers.audit import LogPosition
from projections.merge import Record, TopicKind
from schemas.base import Message
from schemas.codec import Decoded

Batch = Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
_Parsed = dict[tuple[TopicPartition, int], Decoded[Message] | Poison]
Tally = Counter[tuple[TopicKind, str]]  # (topic kind, result) -> records


class EpochChanged(Exception):
    """An operator moved this projection's positions (replay, rebuild swap)."""


@dataclass
class RunStats:
    records: int = 0
    applied: int = 0
    audited: int = 0  # audit index only: no handler for the type
    skipped: int = 0  # already applied: offset below the stored position
    dead_lettered: int = 0
    batches: int = 0
    retries: int = 0

    def add(self, other: RunStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True)
class BatchWriter:
    projection: str
    kinds: Mapping[str, TopicKind]  # topic name -> kind
    dead: DeadLetters
    log: structlog.typing.FilteringBoundLogger

    async def write(
        self, conn: asyncpg.Connection, batch: Batch, epoch: int
    ) -> tuple[RunStats, Tally]:
        """Applies the batch and commits it with its positions, or raises (rolled back)."""
        decoded: _Parsed = {}  # kept for the second attempt: each record is decoded once
        try:
            return await self._attempt(conn, batch, epoch, decoded, guarded=False)
        except POISON_ERRORS:
            # One record broke the batch: again, each record in its own savepoint.
            return await self._attempt(conn, batch, epoch, decoded, guarded=True)

    async def _attempt(
        self,
        conn: asyncpg.Connection,
        batch: Batch,
        epoch: int,
        decoded: _Parsed,
        *,
        guarded: bool,
    ) -> tuple[RunStats, Tally]:
        done, tally = RunStats(batches=1), Tally()
        letters: list[tuple[ConsumerRecord[bytes, bytes], str, dict[str, str]]] = []
        async with conn.transaction():
            # The row lock orders this batch after any other writer of the projection
            # (a peer, a replay, a rebuild's swap) and tells us if one moved positions.
            if await positions.lock_epoch(conn, self.projection) != epoch:
                raise EpochChanged
            # A statement of its own: its snapshot is taken after the lock was granted,
            # so it sees the positions a writer we waited for committed. (Read in the
            # locking statement, they would come from before the wait.)
            stored = await positions.load(conn, self.projection)
            moved: dict[TopicPartition, int] = {}
            todo: list[tuple[ConsumerRecord[bytes, bytes], Record]] = []
            for tp, records in batch.items():
                kind = self.kinds[tp.topic]
                start = stored.get(tp)
                for record in records:
                    if start is not None and record.offset < start:
                        self._count(done, tally, kind, "skipped")  # this schema has it
                        continue
                    moved[tp] = record.offset + 1
                    parsed = decoded.get((tp, record.offset))
                    if parsed is None:
                        parsed = decoded[(tp, record.offset)] = parse(kind, record.value)
                    if isinstance(parsed, Poison):
                        letters.append((record, parsed.reason, {}))
                        self._count(done, tally, kind, "dead_lettered")
                    else:
                        todo.append((record, (kind, parsed)))
            saving = positions.saving(self.projection, moved)
            if not guarded:
                # The positions go in the same statement as the rows (one round trip).
                at = [_at(record) for record, _ in todo]
                await apply_all(conn, [r for _, r in todo], at, saving)
            for record, (kind, message) in todo:
                result = await apply_one(conn, (kind, message), _at(record)) if guarded else None
                if isinstance(result, Poison):
                    env = message.envelope
                    ids = {"event_id": str(env.id), "org_id": env.org_id}
                    letters.append((record, result.reason, ids))
                    self._count(done, tally, kind, "dead_lettered")
                else:
                    self._count(done, tally, kind, result or verdict(kind, message))
            if guarded:
                await execute_all(conn, saving)
            # In the DLQ before the commit that moves past them: nothing is ever lost.
            for record, reason, ids in letters:
                self.log.warning(
                    "dead-lettering a record", reason=reason, source=source_of(record), **ids
                )
                await self.dead.send(record, reason)
        return done, tally

    @staticmethod
    def _count(done: RunStats, tally: Tally, kind: TopicKind, result: str) -> None:
        done.records += 1
        setattr(done, result, getattr(done, result) + 1)
        tally[(kind, result)] += 1


def _at(record: ConsumerRecord[bytes, bytes]) -> LogPosition:
    return (record.topic, record.partition, record.offset)
