"""The decider alone on a backlog, against a raw aiokafka consume -> produce loop.

Both read the same commands (real EnqueueItem envelopes, distinct items) from the
same topic and write to Kafka with acks=all and idempotence; the raw loop writes
each message once, unchanged, with sends pipelined the way a careful hand-written
consumer would (the floor no Kafka client in Python gets under).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from schemas.codec import encode, wrap
from schemas.commands import EnqueueItem
from schemas.envelope import Actor
from schemas.ids import aggregate_id_for, command_id_for
from tests.bench.cpu import cpu_seconds
from tests.processes import Child
from wavestack.settings import Settings
from wavestack.topics import ensure_topics

COMMANDS = 30_000
OUTCOME = b'"type":"command.CommandOutcomeRecorded"'


def commands(org: str, count: int) -> list[tuple[bytes, bytes]]:
    actor = Actor(sub="bench-bot", kind="bot")
    now = datetime.now(UTC)
    out = []
    for n in range(count):
        command_id = command_id_for(org, f"decider-{n}")
        aggregate_id = aggregate_id_for(command_id)
        envelope = wrap(
            EnqueueItem(platform="youtube", title=f"Benchmark post {n}", description="load"),
            id=command_id,
            org_id=org,
            aggregate_id=aggregate_id,
            occurred_at=now,
            command_id=command_id,
            correlation_id=command_id,
            causation_id=command_id,
            actor=actor,
        )
        out.append((str(aggregate_id).encode(), encode(envelope)))
    return out


async def fill(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        for key, value in messages:
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


async def raw_loop(bootstrap: str, source: str, sink: str, count: int) -> float:
    """Consume -> produce every message, acks awaited in batches: messages/s."""
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    try:
        done = 0
        start = time.perf_counter()
        while done < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
            pending = []
            for records in batches.values():
                for record in records:
                    pending.append(await producer.send(sink, record.value, key=record.key))
            await asyncio.gather(*pending)
            await consumer.commit()
            done += len(pending)
        return count / (time.perf_counter() - start)
    finally:
        await consumer.stop()
        await producer.stop()


async def count_outcomes(bootstrap: str, topic: str, count: int, timeout: float) -> float:
    """Seconds until ``count`` outcomes are on ``topic`` (reading from the start)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        seen = 0
        start = time.perf_counter()
        while seen < count:
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"only {seen} of {count} outcomes after {timeout:.0f} s")
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            seen += sum(OUTCOME in r.value for rs in batches.values() for r in rs if r.value)
        return time.perf_counter() - start
    finally:
        await consumer.stop()


async def run(settings: Settings, workdir: Path) -> dict[str, float]:
    bootstrap = settings.kafka_bootstrap
    topics = settings.topics
    await ensure_topics(bootstrap, topics, settings.topic_partitions)
    backlog = commands(f"bench-{uuid.uuid4().hex[:6]}", COMMANDS)
    await fill(bootstrap, topics.commands, backlog)
    mirror = f"{topics.prefix}.mirror"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:  # made up front: an auto-created topic costs the raw loop a metadata error
        await admin.create_topics([NewTopic(mirror, settings.topic_partitions, 1)])
    finally:
        await admin.close()
    raw_rate = await raw_loop(bootstrap, topics.commands, mirror, COMMANDS)

    decider = Child("worker", settings, workdir, args=("--role", "decider"), name="decider")
    started = time.perf_counter()
    await decider.start()
    try:
        await decider.wait_for_output("Worker ready", timeout=120)
        ready = time.perf_counter() - started
        # CPU seconds do not depend on how busy the other core is, unlike the ratio.
        assert decider.proc is not None
        cpu_at_ready = cpu_seconds(decider.proc.pid)
        seconds = await count_outcomes(bootstrap, topics.events, COMMANDS, timeout=600)
        cpu = cpu_seconds(decider.proc.pid) - cpu_at_ready
    finally:
        await decider.stop()
    rate = COMMANDS / seconds
    return {
        "commands": COMMANDS,
        "decider_commands_per_s": rate,
        "raw_consume_produce_msgs_per_s": raw_rate,
        "ratio_vs_raw": rate / raw_rate,
        "decider_cpu_us_per_command": cpu / COMMANDS * 1e6,
        "decider_start_to_ready_s": ready,
    }
