"""A single KRaft broker of one test's own, started as the dev stack starts its broker.

The same jars (deploy/scripts/stack.sh fetched them) and the same two steps: the
storage is formatted with the KRaft storage tool, then ``kafka.Kafka`` runs. What
differs between the tests that need one (their listeners, a SCRAM user written into
the metadata log at format time) is theirs; the rest is here once.
"""

from __future__ import annotations

import base64
import os
import subprocess
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90.0
READY_LINE = "Kafka Server started"


def kafka_libs() -> Path:
    stack = Path(os.environ.get("WAVESTACK_STACK_DIR", ROOT / ".stack"))
    libs = stack / "kafka" / "libs"
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise RuntimeError(f"no Kafka jars in {libs} (run `make install`)")
    return libs


def single_node(folder: Path, controller_port: int, listeners: str) -> str:
    """server.properties of a one-node broker and controller: ``listeners`` (the listener
    lines, ending in a newline) and the settings a one-node test cluster needs."""
    return (
        "process.roles=broker,controller\nnode.id=1\n"
        f"controller.quorum.voters=1@127.0.0.1:{controller_port}\n"
        f"{listeners}"
        "controller.listener.names=CONTROLLER\ninter.broker.listener.name=INTERNAL\n"
        f"log.dirs={folder / 'data'}\n"
        "num.partitions=1\noffsets.topic.replication.factor=1\n"
        "offsets.topic.num.partitions=2\ntransaction.state.log.replication.factor=1\n"
        "transaction.state.log.min.isr=1\n"
        "share.coordinator.state.topic.replication.factor=1\n"
        "share.coordinator.state.topic.min.isr=1\n"
        "group.initial.rebalance.delay.ms=0\nauto.create.topics.enable=false\n"
    )


class BrokerProcess:
    """The broker's JVM in ``folder``: its config, logs and data live there."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None

    def _java(self) -> list[str]:
        return [
            "java",
            "-Xms128m",
            "-Xmx512m",
            "-XX:+UseSerialGC",
            # C1 only: a test broker lives for seconds, start-up time is what counts.
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={ROOT / 'deploy' / 'kafka' / 'log4j2.yaml'}",
            f"-Dkafka.logs.dir={self.folder / 'logs'}",
            "-cp",
            f"{kafka_libs()}/*",
        ]

    def start(self, properties: str, *format_args: str) -> None:
        """Formats the storage (``format_args`` added, e.g. ``--add-scram``), starts the
        broker and returns once it says it has started."""
        config = self.folder / "server.properties"
        config.write_text(properties)
        (self.folder / "logs").mkdir(exist_ok=True)
        # What `kafka-storage random-uuid` prints: a base64url UUID without padding.
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        storage_format = [*self._java(), "kafka.tools.StorageTool", "format", "-t", cluster_id]
        subprocess.run(
            [*storage_format, "-c", str(config), *format_args],
            check=True,
            capture_output=True,
            timeout=90,
        )
        out = (self.folder / "logs" / "stdout.log").open("wb")
        self.proc = subprocess.Popen(
            [*self._java(), "kafka.Kafka", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
        out.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        log = self.folder / "logs" / "server.log"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"test broker exited:\n{self.output()}")
            if log.exists() and READY_LINE in log.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"test broker not ready in {START_TIMEOUT_S} s:\n{self.output()}")

    def output(self) -> str:
        stdout = self.folder / "logs" / "stdout.log"
        return stdout.read_text(errors="replace")[-3000:] if stdout.exists() else ""

    def kill(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # SIGKILL: its data dies with the test's folder, a clean shutdown buys nothing.
        self.proc.kill()
        self.proc.wait(timeout=30)
