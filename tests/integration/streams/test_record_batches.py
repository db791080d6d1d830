"""Records handed to Kafka as whole batches land where, and in the order, they would have
one by one; the offsets reported are the ones written."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner

from streams.runtime.batches import send_batched
from streams.runtime.sending import Outgoing
from tests.isolation import delete_topics
from wavestack.settings import Settings

PARTITIONS = 3


async def test_batches_keep_kafkas_partitions_the_order_and_report_the_last_offsets(
    base_settings: Settings,
) -> None:
    bootstrap = base_settings.kafka_bootstrap
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    keyed, placed = f"{prefix}.keyed", f"{prefix}.placed"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in (keyed, placed)])
    finally:
        await admin.close()
    # Small batches, so full ones are handed over mid-way and one record fits none.
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        max_batch_size=4096,
        max_request_size=1024 * 1024,
    )
    messages = [
        Outgoing(keyed, f"key-{i % 17}".encode(), f"value-{i}".encode(), [("n", str(i).encode())])
        for i in range(600)
    ]
    messages.insert(300, Outgoing(keyed, b"key-3", b"x" * 20_000))  # larger than a batch
    messages += [Outgoing(placed, None, f"placed-{i}".encode(), partition=i % 2) for i in range(50)]
    await producer.start()
    try:
        last = await send_batched(producer, messages)
        assert await send_batched(producer, []) == {}
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    tps = [TopicPartition(t, p) for t in (keyed, placed) for p in range(PARTITIONS)]
    await consumer.start()
    try:
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        read: dict[TopicPartition, list[Any]] = defaultdict(list)
        while sum(len(v) for v in read.values()) < len(messages):
            for tp, records in (await consumer.getmany(timeout_ms=2000)).items():
                read[tp] += [(r.key, r.value, list(r.headers)) for r in records]
    finally:
        await consumer.stop()
        await delete_topics(bootstrap, prefix)

    reference = DefaultPartitioner()
    expected: dict[TopicPartition, list[Any]] = defaultdict(list)
    for m in messages:
        every = list(range(PARTITIONS))
        partition = m.partition if m.partition is not None else reference(m.key, every, every)
        expected[TopicPartition(m.topic, partition)].append((m.key, m.value, m.headers or []))
    assert dict(read) == dict(expected)  # partitions, order, keys, values and headers
    assert last == {tp: ends[tp] - 1 for tp in tps if ends[tp] > 0}
    assert TopicPartition(placed, 2) not in last
