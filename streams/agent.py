"""The deciding agent: read, decide, produce and wait for the acks, then store; one at a time.

Acks are manual (``stream.noack()``): a message is acknowledged only once its
decision is on the log and in the table, so a crash or a cancellation anywhere
before that leaves its offset uncommitted and the command is decided again — from
the same state, to the same bytes (docs/architecture.md, "Decider").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import faust
import structlog
from faust.types import StreamT
from faust.types.tuples import Message

from schemas.catalog import Topics
from streams import metrics
from streams.acking import process_then_ack
from streams.decider import handle
from streams.gaps import Consumed, Positions, read_range
from streams.poison import Poison, read_command
from streams.record import dump_record, load_record
from streams.sending import Outgoing, SendRefused, dead_letter, produce

CONSUMER = "decider"

log = structlog.get_logger("streams.decider")


class Decider:
    """The agent's body. ``table`` maps aggregate id -> AggregateRecord JSON."""

    def __init__(
        self, app: faust.App, table: Any, topics: Topics, positions: Any, bootstrap: str
    ) -> None:
        self.app = app
        self.table = table
        self.topics = topics
        self.positions = Positions(positions, topics.commands)
        self.bootstrap = bootstrap

    async def run(self, stream: StreamT[bytes]) -> None:
        await process_then_ack(stream, self.process_in_order)

    async def process_in_order(self, message: Message) -> None:
        """Decides any commands Faust skipped before this one, then this one."""
        missing = self.positions.missing(message.partition, message.offset)
        if missing:
            log.warning(
                "offset_gap_repaired",
                partition=message.partition,
                first=missing.start,
                count=len(missing),
            )
            metrics.GAP_RECORDS.inc(len(missing))
            async for record in read_range(
                self.bootstrap, message.topic, message.partition, missing
            ):
                await self.process(record)
                self.positions.done(record.partition, record.offset)
        await self.process(message)
        self.positions.done(message.partition, message.offset)

    async def process(self, message: Consumed) -> None:
        """Never raises for anything a message holds: bad input goes to the DLQ."""
        bound = log.bind(partition=message.partition, offset=message.offset)
        received = datetime.fromtimestamp(message.timestamp, UTC)
        try:
            read = read_command(message.key, message.value, received)
            if isinstance(read, Poison):
                await self._dead_letter(message, read, bound)
                return
            bound = bound.bind(command_id=str(read.command_id), org_id=read.org_id)
            table_key = str(read.aggregate_id)
            result = handle(read, load_record(self.table.get(table_key)))
        except Exception as exc:  # a bug of ours: keep the command pending and re-drivable
            bound.exception("decider_failed")
            await self._dead_letter(message, Poison(f"decider error: {exc!r}"), bound, "error")
            return
        outgoing = [Outgoing(self.topics.events, result.key, value) for value in result.values]
        try:
            await self._produce(outgoing, bound)
        except SendRefused as exc:
            reason = f"its events could not be produced: {exc}"
            await self._dead_letter(message, Poison(reason), bound, "refused")
            return
        if result.record is not None:
            self.table[table_key] = dump_record(result.record)
        metrics.COMMANDS.labels(result.kind, result.outcome or "none").inc()
        if result.kind == "conflict":
            bound.warning("idempotency_key_reused_with_another_body")
        else:
            bound.info("command_" + result.kind, type=read.type, outcome=result.outcome)

    async def _dead_letter(
        self, message: Consumed, poison: Poison, bound: Any, cause: str = "poison"
    ) -> None:
        batch = [dead_letter(message, poison.reason, self.topics.dlq, CONSUMER)]
        if poison.outcome is not None:
            batch.append(Outgoing(self.topics.events, poison.outcome_key, _bytes(poison)))
        bound.warning("command_dead_lettered", reason=poison.reason, cause=cause)
        metrics.DEAD_LETTERS.labels(cause).inc()
        try:
            await self._produce(batch, bound)
        except SendRefused:
            # Even the DLQ refuses it (e.g. too large for any topic): all that is left
            # is this log line and the metric; the offset must move on.
            bound.error("dead_letter_refused", reason=poison.reason)

    async def _produce(self, batch: list[Outgoing], bound: Any) -> None:
        await produce(self.app, batch, bound, on_retry=metrics.SEND_RETRIES.inc)


def _bytes(poison: Poison) -> bytes:
    assert poison.outcome is not None
    return poison.outcome.model_dump_json().encode()
