"""The projector's probes: ready once it has PostgreSQL and its partitions; alive, and
saying why it is not ready, while PostgreSQL does not answer."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.health.probing import Door, ProbeLog, ask, until
from tests.integration.projections.projection_support import enqueue_command, produce_commands
from tests.processes import Child, free_port
from wavestack.settings import Settings


def _through(settings: Settings, door: Door) -> Settings:
    """The settings with PostgreSQL reached through ``door``."""
    url = urlsplit(settings.dsn)
    moved = url._replace(netloc=f"{url.username}@127.0.0.1:{door.port}").geturl()
    return settings.model_copy(update={"database_url": moved})


async def test_the_projector_is_ready_once_it_consumes_every_partition_of_both_topics(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    projector = Child(
        "projector", settings.model_copy(update={"projector_metrics_port": port}), tmp_path
    )
    probes = ProbeLog(port).start()
    await projector.start()
    try:
        body = await until(projector, port, "/readyz", 200)
        topics = settings.topics
        assert body["partitions"] == sorted(
            f"{t}:{n}" for t in (topics.commands, topics.events) for n in range(3)
        )
        live = await ask(port, "/healthz")
        assert live is not None and live[0] == 200
        await probes.caught_up()
        # Answered from the moment it loads, and ready only once it consumes.
        assert probes.reasons() == ["starting", "ready"]
    finally:
        await probes.stop()
        assert await projector.stop() == 0


@pytest.mark.slow
async def test_without_postgresql_the_projector_stays_alive_and_is_not_ready_until_it_answers(
    settings: Settings, tmp_path: Path
) -> None:
    url = urlsplit(settings.dsn)
    door = Door(url.hostname or "127.0.0.1", url.port or 5432)  # shut: nothing listens
    port = free_port()
    own = _through(settings, door).model_copy(update={"projector_metrics_port": port})
    projector = Child("projector", own, tmp_path)
    await projector.start()
    try:
        # Starting with the database down: retried with backoff, the loop alive.
        await until(projector, port, "/healthz", 200)
        body = await until(projector, port, "/readyz", 503)
        while body["reason"] != "postgres-unreachable":
            body = await until(projector, port, "/readyz", 503)
        assert body["phase"] == "starting"
        assert "Connect" in body["detail"] or "refused" in body["detail"], body
        await door.open()
        await until(projector, port, "/readyz", 200, timeout=60)

        # Down while running: the next batch finds out, and readiness says so.
        await door.shut()
        await produce_commands(settings, [enqueue_command(uuid.uuid4(), uuid.uuid4())])
        body = await until(projector, port, "/readyz", 503, timeout=60)
        assert body["reason"] == "postgres-unreachable", body
        assert body["phase"] == "ready"  # it keeps its partitions meanwhile
        live = await ask(port, "/healthz")
        assert live is not None and live[0] == 200
        await door.open()
        await until(projector, port, "/readyz", 200, timeout=60)
    finally:
        await door.shut()
        await projector.stop()
