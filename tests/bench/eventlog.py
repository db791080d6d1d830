"""A large, realistic events topic written fast: what the decider emits, from templates.

Per command the decider emits its domain events and then one CommandOutcomeRecorded
(streams/decider/handle.py), all keyed by the target aggregate. Encoding a million
envelopes through pydantic takes minutes, so each event type is encoded once with
sentinel values, and every event is that template with its own ids and times
(byte for byte what ``schemas.codec.encode`` would write). Records go out in
per-partition batches (``create_batch``/``send_batch``), the partition chosen by
the key as Kafka's default partitioner would, so an item's events stay in order.
"""

from __future__ import annotations

import asyncio
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from schemas.base import Message
from schemas.codec import encode, wrap
from schemas.envelope import Actor
from schemas.events import CommandOutcomeRecorded, ItemCancelled, ItemEnqueued, ItemRescheduled
from schemas.ids import fingerprint

T0 = datetime(2025, 6, 1, tzinfo=UTC)
ORGS = 20

# Sentinels, replaced by %-placeholders in the encoded templates.
_ID, _AGG, _CMD, _TARGET = (uuid.UUID(int=n) for n in (0xA1, 0xA2, 0xA3, 0xA4))
_WHEN = datetime(2001, 1, 1, tzinfo=UTC)
_SCHEDULE = datetime(2002, 2, 2, tzinfo=UTC)
_SEQUENCE = 987654321
_ORG = "org-sentinel"


@dataclass(frozen=True)
class LogShape:
    items: int  # each enqueued once: ItemEnqueued + its outcome
    reschedules: int  # ItemRescheduled + outcome, on distinct items
    cancels: int  # ItemCancelled + outcome, on other distinct items

    @property
    def events(self) -> int:
        return 2 * (self.items + self.reschedules + self.cancels)


def shape_for(events: int) -> LogShape:
    """~45% ItemEnqueued (distinct items), 45% their outcomes, 10% moves and cancels."""
    commands = events // 2
    items = commands * 9 // 10
    reschedules = (commands - items) * 2 // 3
    return LogShape(items, reschedules, commands - items - reschedules)


def _template(message: Message, aggregate: uuid.UUID) -> str:
    env = wrap(
        message,
        id=_ID,
        org_id=_ORG,
        aggregate_id=aggregate,
        occurred_at=_WHEN,
        command_id=_CMD,
        correlation_id=_CMD,
        causation_id=_CMD,
        actor=Actor(sub="bench-bot", kind="bot"),
        sequence=_SEQUENCE,
    )
    text = encode(env).decode().replace("%", "%%")
    for sentinel, name in [(_ID, "id"), (_AGG, "agg"), (_CMD, "cmd"), (_TARGET, "target")]:
        text = text.replace(str(sentinel), f"%({name})s")
    text = text.replace(_WHEN.isoformat().replace("+00:00", "Z"), "%(when)s")
    text = text.replace(_SCHEDULE.isoformat().replace("+00:00", "Z"), "%(schedule)s")
    text = text.replace(f'"{_ORG}"', '"%(org)s"')
    return text.replace(str(_SEQUENCE), "%(seq)d")


def _outcome(command_type: str) -> str:
    message = CommandOutcomeRecorded(
        command_type=command_type,
        outcome="applied",
        target_aggregate_type="queue_item",
        target_aggregate_id=_TARGET,
        fingerprint=fingerprint(command_type, {}),
        event_ids=[_ID],
    )
    # The outcome's id is the next one after its event's: "%(id)s" is taken by the
    # event list, so the outcome's own id is the command id's sentinel neighbour.
    return _template(message, _CMD).replace('"id":"%(id)s"', '"id":"%(oid)s"', 1)


ENQUEUED = _template(
    ItemEnqueued(
        platform="youtube",
        title="Weekly upload",
        description="A video queued by the benchmark",
        project_id=None,
        asset_id=None,
        schedule_at=_SCHEDULE,
        timezone="Europe/Paris",
        target={"privacy": "public"},
    ),
    _AGG,
)
RESCHEDULED = _template(ItemRescheduled(schedule_at=_SCHEDULE), _AGG)
CANCELLED = _template(ItemCancelled(reason="no longer needed"), _AGG)
COMMAND_TYPES = ("queue.EnqueueItem", "queue.RescheduleItem", "queue.CancelItem")
OUTCOMES = {t: _outcome(t) for t in COMMAND_TYPES}


def _ids(run: str) -> Iterator[str]:
    # Unique and well-formed, far cheaper than uuid4(): a random prefix and a counter.
    n = 0
    while True:
        n += 1
        yield f"{run}{n:012x}"


def records(shape: LogShape) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) of every event, in the order the decider would have written them."""
    fresh = uuid.uuid4().hex
    ids = _ids(f"{fresh[:8]}-{fresh[8:12]}-4{fresh[13:16]}-8{fresh[17:20]}-")
    items: list[str] = []
    n = 0

    def one(template: str, outcome_type: str, item: str, seq: int, extra: int) -> list[bytes]:
        nonlocal n
        n += 1
        when = (T0 + timedelta(milliseconds=n)).isoformat().replace("+00:00", "Z")
        values = {
            "id": next(ids),
            "oid": next(ids),
            "agg": item,
            "cmd": next(ids),
            "target": item,
            "when": when,
            "schedule": (T0 + timedelta(days=1, seconds=extra)).isoformat().replace("+00:00", "Z"),
            "org": f"org-{zlib.crc32(item.encode()) % ORGS}",  # an item stays in its org
            "seq": seq,
        }
        return [
            (template % values).encode(),
            (OUTCOMES[outcome_type] % {**values, "seq": 1}).encode(),
        ]

    for i in range(shape.items):
        item = next(ids)
        items.append(item)
        for value in one(ENQUEUED, "queue.EnqueueItem", item, 1, i):
            yield item.encode(), value
    for i in range(shape.reschedules):
        item = items[i]
        for value in one(RESCHEDULED, "queue.RescheduleItem", item, 2, 7 * 86400 + i):
            yield item.encode(), value
    for i in range(shape.cancels):
        item = items[shape.reschedules + i]
        for value in one(CANCELLED, "queue.CancelItem", item, 2, 0):
            yield item.encode(), value


async def write(bootstrap: str, topic: str, shape: LogShape) -> float:
    """Writes the log; returns the seconds it took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks=1, linger_ms=20, max_batch_size=1024 * 1024
    )
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        choose = DefaultPartitioner()
        open_batches = {p: producer.create_batch() for p in partitions}
        sent: list[asyncio.Future[object]] = []
        for key, value in records(shape):
            p = choose(key, partitions, partitions)
            if open_batches[p].append(key=key, value=value, timestamp=None) is None:
                sent.append(await producer.send_batch(open_batches[p], topic, partition=p))
                open_batches[p] = producer.create_batch()
                open_batches[p].append(key=key, value=value, timestamp=None)
            if len(sent) > 64:
                await asyncio.gather(*sent)
                sent.clear()
        for p, batch in open_batches.items():
            if batch.record_count():
                sent.append(await producer.send_batch(batch, topic, partition=p))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return loop.time() - started
