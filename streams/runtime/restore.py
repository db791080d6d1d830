"""Bringing a partition's local store up to date from its changelog before it is used."""

from __future__ import annotations

import time
from typing import Protocol

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.runtime.changelog import key_of

BATCH_RECORDS = 5000

log = structlog.get_logger("streams.restore")


class Restorable(Protocol):
    """A partition store that remembers the changelog offset its values reach."""

    def offset(self) -> int: ...
    def write(self, values: dict[str, bytes], changelog_offset: int | None) -> None: ...


async def restore(consumer: AIOKafkaConsumer, tp: TopicPartition, store: Restorable) -> int:
    """Applies the changelog records after the store's offset; returns how many.

    ``consumer`` is assigned by hand (no group): it only ever reads changelogs. Our
    tables never write tombstones (nothing is forgotten), so a record without a
    value is passed over.
    """
    end = (await consumer.end_offsets([tp]))[tp]
    start = store.offset() + 1
    if start >= end:
        return 0
    began = time.monotonic()
    consumer.assign([tp])
    consumer.seek(tp, start)
    applied = 0
    while True:
        batches = await consumer.getmany(tp, timeout_ms=1000, max_records=BATCH_RECORDS)
        records = batches.get(tp, [])
        values = {}
        last = None
        for record in records:
            if record.offset >= end:
                break
            last = record.offset
            if record.key is None or record.value is None:
                continue
            values[key_of(record.key)] = record.value
        if last is not None:
            store.write(values, last)
            applied += len(values)
        if (last is not None and last >= end - 1) or await consumer.position(tp) >= end:
            break
    store.write({}, end - 1)
    log.info(
        "partition_restored",
        topic=tp.topic,
        partition=tp.partition,
        records=applied,
        seconds=round(time.monotonic() - began, 2),
    )
    return applied
