"""Reading a gap back: the records at exactly the missing offsets, in order."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from streams.decider.gaps import read_range
from wavestack.settings import Settings


async def test_a_gap_is_read_back_record_for_record(settings: Settings) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(10):
            await producer.send_and_wait(
                settings.topics.commands, f"value-{i}".encode(), key=b"k", partition=1
            )
    finally:
        await producer.stop()

    records = [
        r
        async for r in read_range(
            settings.kafka_bootstrap, settings.topics.commands, 1, range(3, 7)
        )
    ]
    assert [r.offset for r in records] == [3, 4, 5, 6]
    assert [r.value for r in records] == [b"value-3", b"value-4", b"value-5", b"value-6"]
    assert {r.partition for r in records} == {1}
    assert all(r.key == b"k" for r in records)
