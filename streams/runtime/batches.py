"""Handing records to aiokafka as whole record batches, one per partition.

``producer.send`` costs a partitioner call, a metadata wait, a future and an
accumulator lookup per record: at thousands of records a second that was a fifth of
the decider's CPU. A process that already holds a batch of records (the decider's
events, outcomes and changelog writes) builds one ``BatchBuilder`` per partition
instead, hands each to the producer whole, and waits for one ack per batch. The
order of records within a partition is their order in ``messages``; the idempotent
producer sequences batches like any other, so a retried batch is still written once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.structs import RecordMetadata

from schemas.partitioning import partition_for
from streams.runtime.sending import Outgoing


@dataclass
class _Open:
    builder: BatchBuilder
    records: int = 0


async def send_batched(
    producer: AIOKafkaProducer, messages: Sequence[Outgoing]
) -> dict[TopicPartition, int]:
    """Sends ``messages`` and waits until Kafka has all of them; the offset of the last
    record written to each partition. Raises what the producer raises."""
    partitions = {
        topic: sorted(await producer.partitions_for(topic)) for topic in {m.topic for m in messages}
    }
    open_batches: dict[TopicPartition, _Open] = {}
    acks: list[tuple[int, asyncio.Future[RecordMetadata]]] = []

    async def hand_over(tp: TopicPartition) -> None:
        batch = open_batches.pop(tp)
        if batch.records:
            # Closed, it leaves at once: an open batch lingers (linger_ms) for records
            # that send() might still add, and nothing will.
            batch.builder.close()
            sent = await producer.send_batch(batch.builder, tp.topic, partition=tp.partition)
            acks.append((batch.records, sent))

    for message in messages:
        partition = message.partition
        if partition is None:
            every = partitions[message.topic]
            partition = partition_for(message.key, every, every)
        tp = TopicPartition(message.topic, partition)
        if _append(open_batches, producer, tp, message):
            continue
        await hand_over(tp)  # full: it goes, and the record starts the next one
        if _append(open_batches, producer, tp, message):
            continue
        # Larger than a batch: the producer makes it a batch of its own, in order.
        acks.append(
            (
                1,
                await producer.send(
                    tp.topic, message.value, key=message.key, partition=partition,
                    headers=message.headers,
                ),
            )
        )  # fmt: skip
    for tp in list(open_batches):
        await hand_over(tp)
    written = await asyncio.gather(*(sent for _, sent in acks))
    last: dict[TopicPartition, int] = {}
    for (records, _), metadata in zip(acks, written, strict=True):
        tp = TopicPartition(metadata.topic, metadata.partition)
        last[tp] = max(last.get(tp, -1), metadata.offset + records - 1)
    return last


def _append(
    open_batches: dict[TopicPartition, _Open],
    producer: AIOKafkaProducer,
    tp: TopicPartition,
    message: Outgoing,
) -> bool:
    batch = open_batches.get(tp)
    if batch is None:
        batch = open_batches[tp] = _Open(producer.create_batch())
    appended = batch.builder.append(
        timestamp=None, key=message.key, value=message.value, headers=message.headers or []
    )
    if appended is None:
        return False
    batch.records += 1
    return True
