"""The stream processes' probes, asked of real `wavestack` processes on the test broker:
alive from the moment their loop runs, ready only once they hold their partitions
(stores restored), unready again through a rebalance, ready as standbys."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.health.probing import ProbeLog, until
from tests.integration.streams.helpers import TEST_SESSION_TIMEOUT
from tests.isolation import isolated_read_model
from tests.processes import Child, free_port
from vault.keyring import generate_entry
from wavestack.cli import KEYED_ROLE_PORTS
from wavestack.settings import Settings


def decider(settings: Settings, folder: Path, name: str) -> tuple[Child, int]:
    """A decider with a data directory (so a static member name) and a port of its own."""
    port = free_port()
    own = settings.model_copy(
        update={
            "worker_metrics_port": port,
            "worker_data_dir": folder / name,
            "worker_session_timeout_seconds": TEST_SESSION_TIMEOUT,
        }
    )
    return Child("worker", own, folder, args=("--role", "decider"), name=name), port


def partitions(topic: str, count: int) -> list[str]:
    return [f"{topic}:{n}" for n in range(count)]


@pytest.mark.slow
async def test_a_decider_is_alive_before_it_is_ready_and_ready_once_it_holds_its_partitions(
    settings: Settings, tmp_path: Path
) -> None:
    first, port = decider(settings, tmp_path, "decider-1")
    probes = ProbeLog(port).start()
    await first.start()
    try:
        body = await until(first, port, "/readyz", 200)
        assert body["partitions"] == partitions(settings.topics.commands, 3)
        assert body["standby"] is False
        await probes.caught_up()
        # The heartbeat runs before the group has assigned anything: alive, not ready.
        assert any(s.live == 200 and s.reason == "starting" for s in probes.samples)
        assert probes.reasons()[-1] == "ready"
        assert "ready" not in probes.reasons()[:-1]
        assert "Worker ready" in first.output()

        # A second member: the first gives its partitions up, is unready until the
        # group has shared them out and its stores are restored, then ready again.
        mark = len(probes.samples)
        joined_at = time.monotonic()
        second, second_port = decider(settings, tmp_path, "decider-2")
        await second.start()
        try:
            mine = await until(second, second_port, "/readyz", 200)
            theirs = await until(first, port, "/readyz", 200)
            while len(theirs["partitions"]) == 3:  # the first's ready answer from before
                theirs = await until(first, port, "/readyz", 200)
            in_ready = time.monotonic() - joined_at  # an upper bound when it answered
            assert sorted(mine["partitions"] + theirs["partitions"]) == partitions(
                settings.topics.commands, 3
            )
            assert mine["partitions"] and theirs["partitions"]
            await probes.caught_up()
            during = set(probes.since(mark).reasons()) - {"ready"}
            assert during <= {"rebalancing", "restoring"}, probes.since(mark).reasons()
            # On a quiet machine revocation to readiness can be quicker than two probe
            # requests; then the ready phase it answers from began after the join: it
            # was left (for "rebalancing", the only way to it) and entered again.
            assert during or theirs["since_seconds"] < in_ready, (theirs, in_ready)
            assert all(s.live == 200 for s in probes.since(mark).samples)
        finally:
            await second.stop()
    finally:
        await probes.stop()
        await first.stop()


@pytest.mark.slow
async def test_a_member_beyond_the_partition_count_is_a_ready_standby(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    async with isolated_read_model(settings_factory(topic_partitions=1)) as settings:
        members = [decider(settings, tmp_path, f"decider-{n}") for n in (1, 2)]
        for child, _ in members:
            await child.start()
        try:
            answers = [await until(child, port, "/readyz", 200) for child, port in members]
            # Both have joined once each answers ready: one holds the partition.
            while sorted(len(a["partitions"]) for a in answers) != [0, 1]:
                answers = [await until(child, port, "/readyz", 200) for child, port in members]
            [standby] = [a for a in answers if not a["partitions"]]
            assert standby["standby"] is True
            assert "standby" in standby["detail"]
        finally:
            for child, _ in members:
                await child.stop()


@pytest.mark.slow
async def test_media_publisher_webhooks_and_integrations_are_ready_holding_the_events_topic(
    settings: Settings, tmp_path: Path
) -> None:
    own = settings.model_copy(update={"secret_key": generate_entry("k1")})
    # wavestack/cli.py: media serves on the metrics port + 1, the keyed roles further up.
    offsets: dict[str, int] = {"media": 1, **{str(r): o for r, o in KEYED_ROLE_PORTS.items()}}
    children: dict[str, tuple[Child, int]] = {}
    for role, offset in offsets.items():
        port = free_port()
        # Each on a port of its own: the metrics port is the role's base minus its offset.
        update: dict[str, Any] = {"worker_metrics_port": port - offset}
        command, args = ("publisher", ()) if role == "publisher" else ("worker", ("--role", role))
        child = Child(command, own.model_copy(update=update), tmp_path, args=args, name=role)
        children[role] = (child, port)
    for child, _ in children.values():
        await child.start()
    try:
        for role, (child, port) in children.items():
            live = await until(child, port, "/healthz", 200)
            assert live["status"] == "ok", role
            body = await until(child, port, "/readyz", 200)
            assert body["partitions"] == partitions(settings.topics.events, 3), role
    finally:
        for child, _ in children.values():
            await child.stop()
