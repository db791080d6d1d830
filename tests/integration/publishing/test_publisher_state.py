"""The publisher's tables against Kafka: a flush puts every pending write on the
changelogs before the stores, and another process's restore reads them back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.publishing.state import TABLES, State, changelog_topic
from streams.runtime.changelog import ensure_compacted
from tests.isolation import delete_topics
from wavestack.settings import Settings

GROUP = "state-test"


async def clients(settings: Settings) -> tuple[AIOKafkaProducer, AIOKafkaConsumer]:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True
    )
    restorer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await producer.start()
    await restorer.start()
    return producer, restorer


async def test_flushed_writes_and_removals_are_restored_on_another_disk(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = settings_factory()
    group = f"{settings.topic_prefix}-{GROUP}"
    for table in TABLES:
        await ensure_compacted(settings.kafka_bootstrap, changelog_topic(group, table), 2, 1)
    producer, restorer = await clients(settings)
    try:
        first = State(tmp_path / "first", group, producer)
        await first.open(1, restorer)
        for key in ("a", "b", "c"):
            first.locate(key, 1)
        first.items["a"] = b"1"
        first.items["b"] = b"2"
        first.due["c"] = b"due"
        await first.flush()
        assert first.pending == 0
        first.items["a"] = b"1-again"
        del first.due["c"]
        before: dict[str, Any] = {"a": first.items.get("a"), "c": first.due.get("c")}
        assert before == {"a": b"1-again", "c": None}  # pending writes are read back at once
        await first.flush()
        first.items["b"] = b"never flushed"
        first.close_all()  # a crash: the unflushed write is lost, nothing else

        second = State(tmp_path / "second", group, producer)
        await second.open(1, restorer)
        for key in ("a", "b", "c"):
            second.locate(key, 1)
        assert second.items.get("a") == b"1-again"
        assert second.items.get("b") == b"2"
        assert "c" not in second.due
        assert dict(second.due.items()) == {}
        second.close_all()
    finally:
        await restorer.stop()
        await producer.stop()
        await delete_topics(settings.kafka_bootstrap, settings.topic_prefix)
