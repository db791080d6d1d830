"""Moving due rows on after their attempts are recorded, many rows per statement.

Every finished attempt moves its row (done, or to its next attempt); one UPDATE per
row cost a pool connection and a round trip each, which capped deliveries well below
what the HTTP side could do. Callers await their own row's move, so a lane is freed
only once its row no longer looks due: the same order as before, batched.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from streams.webhooks import store

FLUSH_SECONDS = 0.002


@dataclass(frozen=True)
class Move:
    delivery_id: uuid.UUID
    # None: done; else the next attempt's number and time.
    attempt: int | None = None
    due_at: datetime | None = None


class Mover:
    def __init__(self, pool: asyncpg.Pool, db_schema: str) -> None:
        self.pool = pool
        self.db_schema = db_schema
        self.pending: list[tuple[Move, asyncio.Future[None]]] = []
        self.flushing: asyncio.Task[None] | None = None

    async def move(self, move: Move) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((move, done))
        if self.flushing is None or self.flushing.done():
            self.flushing = asyncio.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        while self.pending:
            await asyncio.sleep(FLUSH_SECONDS)  # let the round's other moves join
            batch, self.pending = self.pending, []
            # Without a transaction: one statement is atomic, and BEGIN and COMMIT were
            # two more round trips per batch.
            # One move per row (a lapsed claim can have two attempts of a row in flight):
            # the later wins, as it did when each row had its own UPDATE.
            moves = list({m.delivery_id: m for m, _ in batch}.values())
            try:
                async with self.pool.acquire() as conn:
                    await store.move_many(
                        conn,
                        self.db_schema,
                        [m.delivery_id for m in moves],
                        [m.attempt if m.due_at is not None else None for m in moves],
                        [m.due_at if m.attempt is not None else None for m in moves],
                    )
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
