"""The deciding agent: read, decide, store, send — and ack once Kafka confirms, in order.

Commands are decided one after another in log order (the state each one sees is
the state the previous one left), but nothing waits for Kafka per command: each
decision's messages are handed to the producer at once and the pipeline acks the
command when they are confirmed (streams/runtime/acking.py), so many decisions
share each round trip.

The record goes into the table right after the send is handed over, before Kafka
confirms it. A crash in between redelivers the command (it was never acked), and
the table then holds its decision: the redelivery re-sends the stored envelopes,
byte for byte (docs/architecture.md, "Decider"). For that the stored envelopes of
every unconfirmed decision must still be there, which is why an aggregate never has
more decisions in flight than the record keeps envelopes for.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import faust
import structlog
from faust.streams import Stream
from faust.types import EventT, StreamT

from schemas.catalog import Topics
from streams import metrics
from streams.decider.gaps import Positions, read_range
from streams.decider.handle import Result, handle
from streams.decider.poison import Poison, read_command
from streams.decider.record import RECENT_DECISIONS, AggregateRecord, dump_record, load_record
from streams.runtime.acking import AckPipeline
from streams.runtime.sending import (
    TYPE_HEADER,
    Consumed,
    DeadLetters,
    Outgoing,
    SendRefused,
    enqueue,
)

CONSUMER = "decider"
# Commands in flight at most (decided, not yet confirmed by Kafka).
WINDOW = 2000
# Parsed records kept in memory; past this the cache starts again (it only saves parsing).
CACHE_LIMIT = 200_000

log = structlog.get_logger("streams.decider")


@dataclass(frozen=True)
class Decided:
    """What one consumed message became: messages to send, and a record to store."""

    outgoing: list[Outgoing]
    key: str | None = None  # the table key whose record changes (None: nothing stored)
    record: AggregateRecord | None = None
    result: Result | None = None


class Records:
    """The aggregates table, with the records this process wrote or read kept parsed.

    The decider is the table's only writer and every write goes through here, so the
    parsed copy is the table's value — until a rebalance moves partitions to another
    worker, which is why the copy is dropped on every rebalance.
    """

    def __init__(self, table: Any) -> None:
        self._table = table
        self._parsed: dict[str, AggregateRecord | None] = {}

    def get(self, key: str) -> AggregateRecord | None:
        if key in self._parsed:
            return self._parsed[key]
        record = load_record(self._table.get(key))
        self._remember(key, record)
        return record

    def put(self, key: str, record: AggregateRecord) -> None:
        self._table[key] = dump_record(record)
        self._remember(key, record)

    def forget(self) -> None:
        self._parsed.clear()

    def _remember(self, key: str, record: AggregateRecord | None) -> None:
        if len(self._parsed) >= CACHE_LIMIT:
            self._parsed.clear()
        self._parsed[key] = record


class Decider:
    """The agent's body. ``table`` maps aggregate id -> AggregateRecord JSON."""

    def __init__(
        self, app: faust.App, table: Any, topics: Topics, positions: Any, bootstrap: str
    ) -> None:
        self.app = app
        self.records = Records(table)
        self.topics = topics
        self.positions = Positions(positions, topics.commands)
        self.bootstrap = bootstrap
        self.dead_letters = DeadLetters(topics.dlq, CONSUMER)

    async def run(self, stream: StreamT[bytes]) -> None:
        manual = cast(Stream[bytes], stream).noack()
        event: EventT[bytes]
        async with AckPipeline(manual.ack, WINDOW) as pipeline:
            async for event in manual.events():
                message = event.message
                sends: list[Awaitable[Any]] = []
                keys: list[str] = []
                for record in await self._missing_before(message):
                    await self._submit(record, pipeline, sends, keys)
                await self._submit(message, pipeline, sends, keys)
                self.positions.done(message.partition, message.offset)
                await pipeline.push(event, sends, keys)
                metrics.IN_FLIGHT.set(pipeline.size)

    def on_rebalance(self) -> None:
        self.records.forget()
        self.positions.forget()

    async def _missing_before(self, message: Consumed) -> list[Consumed]:
        """Commands Faust skipped before this one (streams/decider/gaps.py), read back."""
        missing = self.positions.missing(message.partition, message.offset)
        if not missing:
            return []
        log.warning(
            "offset_gap_repaired",
            partition=message.partition,
            first=missing.start,
            count=len(missing),
        )
        metrics.GAP_RECORDS.inc(len(missing))
        return [
            r async for r in read_range(self.bootstrap, message.topic, message.partition, missing)
        ]

    async def _submit(
        self,
        message: Consumed,
        pipeline: AckPipeline[EventT[bytes]],
        sends: list[Awaitable[Any]],
        keys: list[str],
    ) -> None:
        """Decides one command, hands its messages to the producer and stores its record."""
        bound = log.bind(partition=message.partition, offset=message.offset)
        decided = self.decide(message, bound)
        if decided.key is not None and pipeline.in_flight(decided.key) >= RECENT_DECISIONS // 2:
            # Keep every unconfirmed decision's envelopes in the record (module docstring).
            await pipeline.drain()
            decided = self.decide(message, bound)
        try:
            sends.extend(await enqueue(self.app, decided.outgoing))
        except SendRefused as exc:
            reason = f"its events could not be produced: {exc}"
            letter = self.dead_letters.letter(message, reason, "refused", bound)
            try:
                sends.extend(await enqueue(self.app, [letter]))
            except SendRefused:
                bound.error("dead_letter_refused", reason=reason)
            return
        if decided.key is not None and decided.record is not None:
            self.records.put(decided.key, decided.record)
            keys.append(decided.key)
        if decided.result is not None:
            metrics.COMMANDS.labels(decided.result.kind, decided.result.outcome or "none").inc()

    def decide(self, message: Consumed, bound: Any) -> Decided:
        """What a message becomes. Never raises for anything a message holds."""
        received = datetime.fromtimestamp(message.timestamp, UTC)
        try:
            read = read_command(message.key, message.value, received)
            if isinstance(read, Poison):
                return Decided(self._poison(message, read, bound, "poison"))
            command = read.envelope
            key = str(command.aggregate_id)
            result = handle(read, self.records.get(key))
        except Exception as exc:  # a bug of ours: keep the command pending and re-drivable
            bound.exception("decider_failed")
            return Decided(self._poison(message, Poison(f"decider error: {exc!r}"), bound, "error"))
        if result.kind == "conflict":
            bound.warning(
                "idempotency_key_reused_with_another_body", command_id=str(command.command_id)
            )
        outgoing = [
            Outgoing(self.topics.events, result.key, value, [(TYPE_HEADER, kind.encode())])
            for value, kind in zip(result.values, result.types, strict=True)
        ]
        return Decided(outgoing, key, result.record, result)

    def _poison(self, message: Consumed, poison: Poison, bound: Any, cause: str) -> list[Outgoing]:
        batch = [self.dead_letters.letter(message, poison.reason, cause, bound)]
        if poison.outcome is not None:
            value = poison.outcome.model_dump_json().encode()
            header = [(TYPE_HEADER, poison.outcome.type.encode())]
            batch.append(Outgoing(self.topics.events, poison.outcome_key, value, header))
        return batch
