"""One batch, one transaction: the fence, the records in log order, dead letters, positions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, fields

import asyncpg
import structlog
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from projections import positions
from projections.apply import POISON_ERRORS, Poison, TopicKind, apply, parse
from projections.deadletter import DeadLetters

Batch = Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
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
        try:
            return await self._attempt(conn, batch, epoch, guarded=False)
        except POISON_ERRORS:
            # One record broke the batch: again, each record in its own savepoint.
            return await self._attempt(conn, batch, epoch, guarded=True)

    async def _attempt(
        self, conn: asyncpg.Connection, batch: Batch, epoch: int, *, guarded: bool
    ) -> tuple[RunStats, Tally]:
        done, tally = RunStats(batches=1), Tally()
        letters: list[tuple[ConsumerRecord[bytes, bytes], str, dict[str, str]]] = []
        async with conn.transaction():
            # The row lock orders this batch after any other writer of the projection
            # (a peer, a replay, a rebuild's swap) and tells us if one moved positions.
            if await positions.lock_epoch(conn, self.projection) != epoch:
                raise EpochChanged
            stored = await positions.load(conn, self.projection)
            moved: dict[TopicPartition, int] = {}
            for tp, records in batch.items():
                kind = self.kinds[tp.topic]
                start = stored.get(tp)
                for record in records:
                    if start is not None and record.offset < start:
                        result = "skipped"  # a redelivery: this schema has it already
                    else:
                        verdict, ids = await self._apply(conn, kind, record, guarded)
                        if isinstance(verdict, Poison):
                            letters.append((record, verdict.reason, ids))
                            result = "dead_lettered"
                        else:
                            result = verdict
                        moved[tp] = record.offset + 1
                    done.records += 1
                    setattr(done, result, getattr(done, result) + 1)
                    tally[(kind, result)] += 1
            await positions.save(conn, self.projection, moved)
            # In the DLQ before the commit that moves past them: nothing is ever lost.
            for record, reason, ids in letters:
                source = f"{record.topic}:{record.partition}:{record.offset}"
                self.log.warning("dead-lettering a record", reason=reason, source=source, **ids)
                await self.dead.send(record, reason)
        return done, tally

    async def _apply(
        self,
        conn: asyncpg.Connection,
        kind: TopicKind,
        record: ConsumerRecord[bytes, bytes],
        guarded: bool,
    ) -> tuple[Poison | str, dict[str, str]]:
        """The verdict, and the ids to log a dead letter with (when it could be read)."""
        parsed = parse(kind, record.value)
        if isinstance(parsed, Poison):
            return parsed, {}
        verdict = await apply(conn, kind, parsed, guarded=guarded)
        return verdict, {"event_id": str(parsed.id), "org_id": parsed.org_id}
