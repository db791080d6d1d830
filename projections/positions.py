"""Where a projection stands: its epoch and, per partition, the next offset to apply.

Both live in the read-model schema and change only inside the transaction that
writes the rows they account for, so rows and positions can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping

import asyncpg
from aiokafka import TopicPartition

from projections.combined import Write, execute_all

Positions = dict[TopicPartition, int]


async def ensure_state(conn: asyncpg.Connection, projection: str) -> int:
    """Creates the projection's state row if missing; returns its epoch."""
    await conn.execute(
        "INSERT INTO projection_state (projection) VALUES ($1) ON CONFLICT DO NOTHING", projection
    )
    epoch: int = await conn.fetchval(
        "SELECT epoch FROM projection_state WHERE projection = $1", projection
    )
    return epoch


async def lock_epoch(conn: asyncpg.Connection, projection: str) -> int | None:
    """Locks the state row until the transaction ends; None if the row is gone."""
    epoch: int | None = await conn.fetchval(
        "SELECT epoch FROM projection_state WHERE projection = $1 FOR UPDATE", projection
    )
    return epoch


async def bump_epoch(conn: asyncpg.Connection, projection: str) -> int:
    epoch: int = await conn.fetchval(
        "INSERT INTO projection_state AS s (projection, epoch) VALUES ($1, 1) "
        "ON CONFLICT (projection) DO UPDATE SET epoch = s.epoch + 1 RETURNING epoch",
        projection,
    )
    return epoch


async def load(conn: asyncpg.Connection, projection: str) -> Positions:
    rows = await conn.fetch(
        "SELECT topic, partition, next_offset FROM projection_offsets WHERE projection = $1",
        projection,
    )
    return {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}


def saving(projection: str, positions: Mapping[TopicPartition, int]) -> list[Write]:
    """The write that stores ``positions`` (none when there are none), to send alone
    (``save``) or with the batch's other writes (projections/combined.py)."""
    if not positions:
        return []
    tps = list(positions)
    write = Write(
        "INSERT INTO projection_offsets AS o (projection, topic, partition, next_offset) "
        "SELECT $1, t, p, n FROM unnest($2::text[], $3::int[], $4::bigint[]) AS u(t, p, n) "
        "ON CONFLICT (projection, topic, partition) "
        "DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()",
        (
            projection,
            [tp.topic for tp in tps],
            [tp.partition for tp in tps],
            [positions[tp] for tp in tps],
        ),
    )
    return [write]


async def save(
    conn: asyncpg.Connection, projection: str, positions: Mapping[TopicPartition, int]
) -> None:
    await execute_all(conn, saving(projection, positions))


async def forget(conn: asyncpg.Connection, projection: str) -> None:
    """Drops every position: the projection starts again from the beginning of the log."""
    await conn.execute("DELETE FROM projection_offsets WHERE projection = $1", projection)
