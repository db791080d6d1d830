"""`wavestack dlq replay`: re-publish dead letters' original bytes to their source topics.

After an operator fixed the cause (deployed the build that knows a schema version,
fixed a producer), each matching letter's key, value and original headers go back
to the topic and partition its source header names. Copies of one record (the DLQ
is at-least-once: same source header) go once per run. Each re-publication is
recorded in ``<schema>_ops.dlq_replays`` with the offset it got.

Replaying a letter again, in another run, cannot double its effect: the decider
decides a command id once and re-emits that decision for a repeat, the projector
keeps an event id once (audit index keyed by id, rows guarded by sequence). A
replayed record that is still poison is dead-lettered again, as a new letter.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaProducer

from projections.db import connect, quote_ident
from projections.deadletter import durable_producer
from projections.progress import ProgressCallback, ProgressMeter
from schemas.pg_ddl import create_once
from wavestack.operator.letters import REPLAY_RUN, REPLAYED_FROM, Letter, LetterFilter, read_letters
from wavestack.settings import Settings

OPS_SCHEMA_SUFFIX = "_ops"


def journal_table(db_schema: str) -> str:
    return f"{quote_ident(db_schema + OPS_SCHEMA_SUFFIX)}.dlq_replays"


async def create_journal(conn: asyncpg.Connection, db_schema: str) -> None:
    await create_once(
        conn,
        db_schema + OPS_SCHEMA_SUFFIX,
        f"CREATE SCHEMA IF NOT EXISTS {quote_ident(db_schema + OPS_SCHEMA_SUFFIX)}",
        f"CREATE TABLE IF NOT EXISTS {journal_table(db_schema)} ("
        " run_id uuid NOT NULL, dlq_topic text NOT NULL, dlq_partition integer NOT NULL,"
        " dlq_offset bigint NOT NULL, source text NOT NULL, target_topic text NOT NULL,"
        " target_partition integer NOT NULL, target_offset bigint NOT NULL,"
        " replayed_at timestamptz NOT NULL DEFAULT now(),"
        " PRIMARY KEY (run_id, dlq_topic, dlq_partition, dlq_offset))",
    )


@dataclass(frozen=True)
class Replayed:
    letter: str  # the letter's id
    source: str
    target: str  # "topic:partition:offset" of the copy (dry run: where it would go)


@dataclass
class ReplaySummary:
    run_id: uuid.UUID
    dry_run: bool
    matched: int = 0
    replayed: list[Replayed] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)  # letters whose original already went
    refused: list[tuple[str, str]] = field(default_factory=list)  # (letter, why)


async def matching_letters(settings: Settings, wanted: LetterFilter) -> list[Letter]:
    # In memory: a DLQ holds the exceptions of a system, not its traffic (thousands,
    # not millions); the count is what the progress bar needs up front.
    return [x async for x in read_letters(settings.kafka, settings.topics.dlq, wanted)]


async def replay(
    settings: Settings,
    wanted: LetterFilter,
    *,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ReplaySummary:
    letters = await matching_letters(settings, wanted)
    summary = ReplaySummary(run_id=uuid.uuid4(), dry_run=dry_run, matched=len(letters))
    allowed = {settings.topics.commands, settings.topics.events}
    meter = ProgressMeter(len(letters), progress)
    sent: set[str] = set()  # source headers whose record went in this run
    if dry_run:
        for done, letter in enumerate(letters, 1):
            _plan(letter, allowed, summary, sent)
            meter.update(done, force=done == len(letters))
        return summary
    conn = await connect(settings.dsn, settings.db_schema, purpose="dlq-replay")
    producer = durable_producer(settings.kafka)
    try:
        await create_journal(conn, settings.db_schema)
        await producer.start()
        for done, letter in enumerate(letters, 1):
            target = _plan(letter, allowed, summary, sent)
            if target is not None:
                where = await _send(producer, letter, target, summary.run_id)
                await _record(conn, settings.db_schema, summary.run_id, letter, where)
                summary.replayed.append(Replayed(letter.id, letter.source_text, _text(where)))
            meter.update(done, force=done == len(letters))
    finally:
        await producer.stop()
        await conn.close()
    return summary


def _plan(
    letter: Letter, allowed: set[str], summary: ReplaySummary, sent: set[str]
) -> tuple[str, int] | None:
    """Where the letter goes, or None (refused, or a copy of one already sent)."""
    source = letter.source
    if source is None:
        summary.refused.append((letter.id, "no usable source header"))
        return None
    topic, partition, _ = source
    if topic not in allowed:
        summary.refused.append((letter.id, f"source topic {topic!r} is not this deployment's"))
        return None
    if letter.value is None:
        summary.refused.append((letter.id, "no value"))
        return None
    if letter.source_text in sent:
        summary.copies.append(letter.id)
        return None
    sent.add(letter.source_text)
    if summary.dry_run:
        summary.replayed.append(Replayed(letter.id, letter.source_text, f"{topic}:{partition}"))
    return topic, partition


async def _send(
    producer: AIOKafkaProducer, letter: Letter, target: tuple[str, int], run_id: uuid.UUID
) -> tuple[str, int, int]:
    topic, source_partition = target
    # The original's partition keeps the aggregate's order; if the topic no longer has
    # it (recreated with fewer partitions), the key decides, as for any new record.
    known = await producer.partitions_for(topic)
    partition = source_partition if source_partition in known else None
    headers = [
        *letter.original_headers(),
        (REPLAYED_FROM, f"{letter.topic}:{letter.id}".encode()),
        (REPLAY_RUN, str(run_id).encode()),
    ]
    meta = await producer.send_and_wait(
        topic, value=letter.value, key=letter.key, partition=partition, headers=headers
    )
    return topic, meta.partition, meta.offset


async def _record(
    conn: asyncpg.Connection,
    db_schema: str,
    run_id: uuid.UUID,
    letter: Letter,
    where: tuple[str, int, int],
) -> None:
    await conn.execute(
        f"INSERT INTO {journal_table(db_schema)} (run_id, dlq_topic, dlq_partition, dlq_offset,"
        " source, target_topic, target_partition, target_offset)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        run_id,
        letter.topic,
        letter.partition,
        letter.offset,
        letter.source_text,
        *where,
    )


async def replay_counts(conn: asyncpg.Connection, db_schema: str, dlq_topic: str) -> dict[str, int]:
    """How often each letter (by id) was replayed, for `dlq list`; {} before any replay."""
    exists = await conn.fetchval(
        "SELECT to_regclass($1) IS NOT NULL", f"{db_schema}{OPS_SCHEMA_SUFFIX}.dlq_replays"
    )
    if not exists:
        return {}
    rows = await conn.fetch(
        f"SELECT dlq_partition, dlq_offset, count(*) AS n FROM {journal_table(db_schema)}"
        " WHERE dlq_topic = $1 GROUP BY dlq_partition, dlq_offset",
        dlq_topic,
    )
    return {f"{r['dlq_partition']}:{r['dlq_offset']}": int(r["n"]) for r in rows}


def _text(where: tuple[str, int, int]) -> str:
    return f"{where[0]}:{where[1]}:{where[2]}"
