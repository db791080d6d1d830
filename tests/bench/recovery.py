"""Recovery: a decider with 10k / 100k / 1M aggregates, SIGKILLed and restarted at once.

The aggregates table's changelog is written straight to Kafka with N realistic
records (one decided EnqueueItem each, as the decider stores it), partitioned as
the decider would. Then, per N: a cold start (an empty data directory: the whole
changelog is read into RocksDB), a probe command, SIGKILL, an immediate restart
(the dead member's session still open: faust #629's situation) and the time until
a second probe command's outcome is on the log. With static membership (a named
process) the restarted member takes its partitions back without waiting for the
dead one's session to expire.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner

from schemas.codec import read
from streams.decider.handle import handle
from streams.decider.record import dump_record
from tests.bench.decider import commands
from tests.processes import Child
from wavestack.settings import Settings
from wavestack.topics import ensure_topics

SIZES = (10_000, 100_000, 1_000_000)
PROBE_TIMEOUT_S = 180.0
Fresh = Callable[[], AbstractAsyncContextManager[Settings]]


def record_template(org: str) -> tuple[str, bytes]:
    """One decided EnqueueItem's stored record and the aggregate id it names."""
    key, value = commands(org, 1)[0]
    result = handle(read(value), None)
    assert result.record is not None
    return key.decode(), dump_record(result.record)


async def fill_changelog(settings: Settings, count: int) -> None:
    topic = f"{settings.topic_prefix}-worker-aggregates-changelog"
    partitions = settings.topic_partitions
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        compacted = {"cleanup.policy": "compact"}
        await admin.create_topics([NewTopic(topic, partitions, 1, topic_configs=compacted)])
    finally:
        await admin.close()
    template_id, template = record_template(f"recovery-{uuid.uuid4().hex[:6]}")
    every = list(range(partitions))
    partitioner = DefaultPartitioner()
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        linger_ms=20,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    try:
        for n in range(count):
            aggregate = str(uuid.uuid5(uuid.NAMESPACE_URL, f"recovery-{n}"))
            value = template.replace(template_id.encode(), aggregate.encode())
            partition = partitioner(aggregate.encode(), every, every)
            key = f'"{aggregate}"'.encode()  # faust's JSON key codec
            await producer.send(topic, value, key=key, partition=partition)
        await producer.flush()
    finally:
        await producer.stop()


async def outcome_of(settings: Settings, command_id: uuid.UUID, timeout: float) -> float:
    """Seconds until the outcome of ``command_id`` is on the events topic."""
    wanted = str(command_id).encode()
    consumer = AIOKafkaConsumer(
        settings.topics.events,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < timeout:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for r in records:
                    if r.value and b"CommandOutcomeRecorded" in r.value and wanted in r.value:
                        return time.perf_counter() - start
        raise TimeoutError(f"no outcome for {command_id} within {timeout:.0f} s")
    finally:
        await consumer.stop()


async def probe(settings: Settings, name: str) -> float:
    """Sends one new command; seconds until its outcome is on the log."""
    key, value = commands(f"probe-{name}-{uuid.uuid4().hex[:6]}", 1)[0]
    command_id = read(value).envelope.command_id
    waiting = asyncio.create_task(outcome_of(settings, command_id, PROBE_TIMEOUT_S))
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(settings.topics.commands, value, key=key)
    finally:
        await producer.stop()
    return await waiting


async def one_size(settings: Settings, workdir: Path, count: int) -> dict[str, float]:
    await ensure_topics(settings.kafka_bootstrap, settings.topics, settings.topic_partitions)
    began = time.perf_counter()
    await fill_changelog(settings, count)
    filled = time.perf_counter() - began
    decider = Child(
        "worker", settings, workdir, args=("--role", "decider"), name=f"decider-{count}"
    )
    began = time.perf_counter()
    await decider.start()
    try:
        await decider.wait_for_output("Worker ready", timeout=900)
        cold = time.perf_counter() - began
        await probe(settings, "cold")
        await decider.kill()
        began = time.perf_counter()
        await decider.start()
        await probe(settings, "restart")
        recovered = time.perf_counter() - began
    finally:
        await decider.stop()
    return {
        f"{count:>9,}: changelog written s": filled,
        f"{count:>9,}: cold start to ready s": cold,
        f"{count:>9,}: SIGKILL -> deciding s": recovered,
    }


async def run(
    fresh: Fresh, workdir: Path, sizes: tuple[int, ...] = SIZES, *, static: bool = True
) -> dict[str, float]:
    """``static``: name the process (static membership), as a deployment should."""
    figures: dict[str, float] = {}
    for count in sizes:
        async with fresh() as base:
            instance = f"bench-{uuid.uuid4().hex[:6]}" if static else None
            settings = base.model_copy(
                update={
                    "worker_instance_id": instance,
                    "worker_data_dir": workdir / f"recovery-{count}",
                }
            )
            figures.update(await one_size(settings, workdir, count))
    return figures
