"""Re-publishes stuck commands: their original bytes, found again on the commands topic.

The decider is idempotent per command id (architecture.md: a second delivery of a
decided command re-emits its stored decision), so a redrive can never apply a
command twice; at worst it produces the same outcome again, which the projector drops.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from aiokafka import TopicPartition

from projections.config import ProjectorSettings
from projections.deadletter import durable_producer, source_of
from projections.doctor import StuckCommand
from projections.kafka import new_consumer, partitions_of

REDRIVE_SOURCE = "wavestack-redrive-source"  # "topic:partition:offset" of the original

# Record timestamps are the producer's clock, requested_at the API's: start the scan
# this much earlier than the oldest command so clock skew cannot hide the original.
DEFAULT_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class RedriveSummary:
    redriven: list[uuid.UUID] = field(default_factory=list)
    not_found: list[uuid.UUID] = field(default_factory=list)
    scanned: int = 0


def envelope_id(raw: bytes | None) -> str | None:
    """The envelope id of a record, without validating the rest of it."""
    try:
        value = json.loads(raw or b"")
    except ValueError:
        return None
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


async def redrive(
    settings: ProjectorSettings,
    commands: Sequence[StuckCommand],
    *,
    slack: timedelta = DEFAULT_SLACK,
) -> RedriveSummary:
    if not commands:
        return RedriveSummary()
    wanted = {str(c.command_id) for c in commands}
    since_ms = int((min(c.requested_at for c in commands) - slack).timestamp() * 1000)
    topic = settings.topics.commands
    consumer = new_consumer(settings.kafka, None, 500)
    producer = durable_producer(settings.kafka)
    tps = await partitions_of(settings.kafka, [topic])
    await consumer.start()
    await producer.start()
    scanned = 0
    found: set[str] = set()
    try:
        consumer.assign(tps)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        starts = await consumer.offsets_for_times(dict.fromkeys(tps, since_ms))
        for tp in tps:
            hit = starts.get(tp)
            consumer.seek(tp, hit.offset if hit is not None else ends[tp])
        while wanted - found and any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue  # our own re-publications and anything newer
                    scanned += 1
                    command_id = envelope_id(record.value)
                    if command_id not in wanted or command_id in found:
                        continue
                    found.add(command_id)
                    source = source_of(record).encode()
                    headers = [*(record.headers or ()), (REDRIVE_SOURCE, source)]
                    await producer.send_and_wait(
                        topic, value=record.value, key=record.key, headers=headers
                    )
    finally:
        await consumer.stop()
        await producer.stop()
    return RedriveSummary(
        redriven=sorted(uuid.UUID(c) for c in found),
        not_found=sorted(uuid.UUID(c) for c in wanted - found),
        scanned=scanned,
    )
