"""What must hold after a fault: counted on the log and in the read model."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.codec import decode
from schemas.envelope import Envelope
from tests.integration.cluster.load import Accepted
from wavestack.settings import Settings

OUTCOME = "command.CommandOutcomeRecorded"


async def read_log(settings: Settings, topic: str, timeout: float = 60.0) -> list[Envelope]:
    """Every record of ``topic`` up to its current end, decoded."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        group_id=None,
        # A failed look-up of the log start falls back to this: never skip to the end.
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        # Ours, so made with the setting's partition count (tests/isolation.py).
        partitions = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        envelopes: list[Envelope] = []
        counts = dict.fromkeys(partitions, 0)
        deadline = asyncio.get_running_loop().time() + timeout

        async def behind() -> bool:
            return any([await consumer.position(tp) < end for tp, end in ends.items()])

        while await behind():
            assert asyncio.get_running_loop().time() < deadline, f"{topic}: read timed out"
            batches = await consumer.getmany(timeout_ms=500)
            for tp, msgs in batches.items():
                counts[tp] += len(msgs)
                envelopes += [decode(m.value) for m in msgs if m.value]
        # Nothing compacts or deletes these topics: every offset is a record we read.
        assert counts == {tp: ends[tp] - starts[tp] for tp in partitions}, (counts, starts, ends)
        return envelopes
    finally:
        await consumer.stop()


def assert_one_outcome_each(events: list[Envelope], commands: Iterable[uuid.UUID]) -> None:
    """Every command has an outcome; copies (re-sent after a crash) are identical."""
    outcomes: dict[uuid.UUID, set[uuid.UUID]] = {}
    for e in events:
        if e.type == OUTCOME:
            outcomes.setdefault(e.command_id, set()).add(e.id)
    wanted = set(commands)
    assert wanted <= set(outcomes), f"{len(wanted - set(outcomes))} commands without an outcome"
    two = {c: ids for c, ids in outcomes.items() if len(ids) > 1}
    assert not two, f"commands with two different outcomes: {two}"


def assert_no_forked_history(events: list[Envelope]) -> None:
    """No two different events claim one place in an aggregate's history."""
    ids_at: dict[tuple[uuid.UUID, int | None], set[uuid.UUID]] = {}
    for e in events:
        if e.sequence is not None:
            ids_at.setdefault((e.aggregate_id, e.sequence), set()).add(e.id)
    forks = {k: v for k, v in ids_at.items() if len(v) > 1}
    assert not forks, f"two events at one sequence: {forks}"


def distinct(events: list[Envelope], message_type: str) -> dict[uuid.UUID, Envelope]:
    """Events of one type by id (a redelivered copy repeats its id)."""
    return {e.id: e for e in events if e.type == message_type}


async def assert_read_model_exact(
    db: asyncpg.Connection, org: str, accepted: list[Accepted], version: int | None = None
) -> None:
    """Every accepted item is a row, once; no other row; every command applied."""
    rows = await db.fetch("SELECT id, version FROM queue_items WHERE org_id = $1", org)
    assert len(rows) == len(accepted)
    assert {r["id"] for r in rows} == {a.item_id for a in accepted}
    if version is not None:
        assert {r["version"] for r in rows} == {version}
    outcomes = await db.fetch(
        "SELECT command_id, outcome FROM commands WHERE command_id = ANY($1::uuid[])",
        [a.command_id for a in accepted],
    )
    assert len(outcomes) == len(accepted)
    assert {r["outcome"] for r in outcomes} == {"applied"}
    enqueued = await db.fetchval(
        "SELECT count(*) FROM events WHERE org_id = $1 AND type = 'queue.ItemEnqueued'", org
    )
    assert enqueued == len(accepted)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"never: {what}"
        await asyncio.sleep(0.5)
