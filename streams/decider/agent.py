"""The deciding loop: a batch of commands in, their events out, then state, then offsets.

Per batch (whatever the consumer has, up to ``MAX_BATCH`` commands):

1. decide every command in log order, each against the state the previous one left
   (records kept parsed in memory, read from the partition's store on a miss);
2. send every event and outcome (acks=all, idempotent producer: one aggregate's
   events stay in sequence order) and each changed record once to the changelog,
   together, and wait until Kafka has them all;
3. write the records and the changelog offsets to the local stores;
4. commit the offsets, while the next batches are fetched, decided and sent (at most
   every ``COMMIT_INTERVAL_S``, streams/decider/app.py; commits stay in order).

Step 2 hands the producer one record batch per partition
(``streams.runtime.batches``), not one record at a time.

One round trip per step, whatever the batch size. A crash anywhere before 4 lands
leaves the batch uncommitted, so it is decided again: from the old state if its
changelog records did not land, to the same events, ids and sequences (``now`` is
each command's ``occurred_at``); from the stored decisions if they did, whose
envelopes are sent again byte for byte. Consumers drop the copies by event id
(docs/architecture.md, "Decider").

That the changelog may land before the events is safe only while each record it
carries still holds the envelopes of every decision this batch took on it: a record
trims old envelopes (streams/decider/record.py), and a redelivery answered from a
trimmed decision would re-send nothing. A batch where a record trimmed one of its
own decisions (more than ``RECENT_DECISIONS`` commands on one aggregate, or events
over the envelope budget) sends its events first, waits, then its changelog.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition

from schemas.catalog import Topics
from streams import metrics
from streams.decider.handle import Result, handle
from streams.decider.poison import Poison, read_command
from streams.decider.record import AggregateRecord, dump_record
from streams.decider.state import Stores
from streams.decider.store import changelog_key
from streams.runtime.batches import send_batched
from streams.runtime.sending import (
    TYPE_HEADER,
    Consumed,
    DeadLetters,
    Outgoing,
    SendRefused,
    check_sizes,
)

CONSUMER = "decider"
MAX_BATCH = 2000

log = structlog.get_logger("streams.decider")


# Slots: a frozen dataclass sets each field through object.__setattr__, and with a
# __dict__ that costs about twice as much; the decider makes one Record per command.
@dataclass(frozen=True, slots=True)
class Record:
    """A consumed command as the decider reads it (aiokafka's record, timestamp in s)."""

    topic: str
    partition: int
    offset: int
    timestamp: float
    key: bytes | None
    value: bytes | None

    @classmethod
    def of(cls, record: ConsumerRecord[bytes, bytes]) -> Record:
        return cls(
            record.topic,
            record.partition,
            record.offset,
            record.timestamp / 1000,
            record.key,
            record.value,
        )


@dataclass
class Batch:
    """What a batch of commands became, accumulated in log order."""

    outgoing: list[Outgoing] = field(default_factory=list)
    # Changed records by partition, last value per aggregate.
    changed: dict[int, dict[str, AggregateRecord]] = field(default_factory=dict)
    # Next offset to commit per commands partition.
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    commands: int = 0
    # Commands by (kind, outcome), for the commands counter.
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Decisions this batch took, by (partition, aggregate id): the newest entries of
    # that aggregate's record.
    decided: Counter[tuple[int, str]] = field(default_factory=Counter)

    def replayable(self) -> bool:
        """Whether every record to write still holds the envelopes of every decision
        this batch took on it, so its changelog may land before its events."""
        for (partition, key), count in self.decided.items():
            newest = reversed(self.changed[partition][key].decisions.values())
            if any(decision.envelopes is None for decision in islice(newest, count)):
                return False
        return True


class Decider:
    """Decides batches; ``stores`` holds the state of the partitions this process owns."""

    def __init__(self, topics: Topics, stores: Stores, changelog: str) -> None:
        self.topics = topics
        self.stores = stores
        self.changelog = changelog
        self.dead_letters = DeadLetters(topics.dlq, CONSUMER)

    def decide_batch(self, records: Sequence[Record]) -> Batch:
        batch = Batch()
        for record in records:
            self._decide_into(batch, record)
            tp = TopicPartition(record.topic, record.partition)
            batch.offsets[tp] = record.offset + 1
            batch.commands += 1
        # Counted once per batch: a labelled counter's lookup and lock cost a few µs.
        for (kind, outcome), count in batch.counts.items():
            metrics.COMMANDS.labels(kind, outcome).inc(count)
        return batch

    def _decide_into(self, batch: Batch, message: Record) -> None:
        pending = batch.changed.setdefault(message.partition, {})
        try:
            received = datetime.fromtimestamp(message.timestamp, UTC)
            read = read_command(message.key, message.value, received)
            if isinstance(read, Poison):
                batch.outgoing.extend(self._poison(message, read, "poison"))
                return
            command = read.envelope
            key = str(command.aggregate_id)
            current = pending[key] if key in pending else self.stores.get(message.partition, key)
            result = handle(read, current)
        except Exception as exc:  # a bug of ours: keep the command pending and re-drivable
            _bound(message).exception("decider_failed")
            poison = Poison(f"decider error: {exc!r}")
            batch.outgoing.extend(self._poison(message, poison, "error"))
            return
        outgoing = _events(self.topics.events, result)
        try:
            check_sizes(outgoing)
        except SendRefused as exc:
            reason = f"its events could not be produced: {exc}"
            bound = _bound(message)
            batch.outgoing.append(self.dead_letters.letter(message, reason, "refused", bound))
            return
        batch.outgoing.extend(outgoing)
        if result.record is not None:
            pending[key] = result.record
            batch.decided[message.partition, key] += 1
        batch.counts[result.kind, result.outcome or "none"] += 1
        if result.kind == "conflict":
            command_id = str(command.command_id)
            bound = _bound(message)
            bound.warning("idempotency_key_reused_with_another_body", command_id=command_id)

    def _poison(self, message: Consumed, poison: Poison, cause: str) -> list[Outgoing]:
        batch = [self.dead_letters.letter(message, poison.reason, cause, _bound(message))]
        if poison.outcome is not None:
            value = poison.outcome.model_dump_json().encode()
            header = [(TYPE_HEADER, poison.outcome.type.encode())]
            batch.append(Outgoing(self.topics.events, poison.outcome_key, value, header))
        return batch

    async def apply(self, producer: AIOKafkaProducer, batch: Batch) -> None:
        """Steps 2-3 of the module docstring: events and changelog, then local stores."""
        serialized = {
            partition: {key: dump_record(record) for key, record in records.items()}
            for partition, records in batch.changed.items()
            if records
        }
        changelog = [
            Outgoing(self.changelog, changelog_key(key), value, partition=partition)
            for partition, values in serialized.items()
            for key, value in values.items()
        ]
        if batch.replayable():
            # One round trip for both: the broker writes them side by side.
            _, reached = await asyncio.gather(
                send_batched(producer, batch.outgoing), send_batched(producer, changelog)
            )
        else:
            await send_batched(producer, batch.outgoing)
            reached = await send_batched(producer, changelog)
        for partition, values in serialized.items():
            offset = reached.get(TopicPartition(self.changelog, partition))
            self.stores.write(partition, values, batch.changed[partition], offset)


def _bound(message: Consumed) -> Any:
    """The logger bound to a message's position: made only when something is logged
    (binding costs a few µs, and almost every command logs nothing)."""
    return log.bind(partition=message.partition, offset=message.offset)


def _events(topic: str, result: Result) -> list[Outgoing]:
    return [
        Outgoing(topic, result.key, value, [(TYPE_HEADER, kind.encode())])
        for value, kind in zip(result.values, result.types, strict=True)
    ]
