"""A decider whose broker becomes unreachable: alive throughout, not ready (naming Kafka)
until the broker answers again, then ready with its partitions back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.integration.health.broker import LoneBroker
from tests.integration.health.probing import ProbeLog, ask, until
from tests.integration.health.test_stream_probes import decider, partitions
from wavestack.settings import Settings
from wavestack.topics import ensure_topics


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[LoneBroker]:
    lone = LoneBroker(tmp_path / "broker")
    lone.folder.mkdir()
    try:
        await lone.start()
        yield lone
    finally:
        await lone.stop()


@pytest.mark.slow
async def test_a_decider_that_cannot_reach_kafka_is_alive_and_not_ready_until_it_can(
    broker: LoneBroker, settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    own = settings_factory(kafka_bootstrap=broker.bootstrap)
    await ensure_topics(own.kafka_bootstrap, own.topics, own.topic_partitions)
    child, port = decider(own, tmp_path, "decider")
    await child.start()
    probes = ProbeLog(port)
    try:
        await until(child, port, "/readyz", 200)
        probes.start()
        await broker.door.shut()
        body = await until(child, port, "/readyz", 503, timeout=60)
        while body["reason"] != "kafka-unreachable":
            body = await until(child, port, "/readyz", 503, timeout=60)
        assert "coordinator" in body["detail"]
        live = await ask(port, "/healthz")
        assert live is not None and live[0] == 200  # nothing to restart: it waits

        await broker.door.open()
        body = await until(child, port, "/readyz", 200, timeout=90)
        assert body["partitions"] == partitions(own.topics.commands, 3)
        await probes.caught_up()
        seen = probes.reasons()
        assert seen[0] == seen[-1] == "ready"
        assert set(seen) <= {"ready", "kafka-unreachable", "rebalancing", "restoring"}, seen
        assert all(s.live == 200 for s in probes.samples)
        assert child.proc is not None and child.proc.returncode is None
    finally:
        await probes.stop()
        await child.stop()
