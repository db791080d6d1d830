"""A single KRaft broker of one test's own, whose clients reach it through a door.

It listens on one port and advertises another, where a ``Door`` forwards to it: shut
the door and no client can reach the broker (every connection cut, nothing listening),
open it and they can again, while the broker itself runs on undisturbed. The shared
test broker cannot be taken away like that without failing every other test.
Started as the dev stack and the security tests start theirs (the same jars).
"""

from __future__ import annotations

import base64
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.health.probing import Door, free_port
from tests.integration.security.broker import ROOT, kafka_libs

READY_LINE = "Kafka Server started"
START_TIMEOUT_S = 90.0


@dataclass
class LoneBroker:
    folder: Path
    port: int = field(default_factory=free_port)
    internal_port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    door: Door = field(init=False)
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.door = Door("127.0.0.1", self.port)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.door.port}"

    def properties(self) -> str:
        return (
            "process.roles=broker,controller\nnode.id=1\n"
            f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}\n"
            f"listeners=CLIENT://127.0.0.1:{self.port},"
            f"INTERNAL://127.0.0.1:{self.internal_port},"
            f"CONTROLLER://127.0.0.1:{self.controller_port}\n"
            # Clients are told the door's port, so everything they send goes through it.
            f"advertised.listeners=CLIENT://127.0.0.1:{self.door.port},"
            f"INTERNAL://127.0.0.1:{self.internal_port}\n"
            "listener.security.protocol.map=CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,"
            "CONTROLLER:PLAINTEXT\n"
            "controller.listener.names=CONTROLLER\ninter.broker.listener.name=INTERNAL\n"
            f"log.dirs={self.folder / 'data'}\n"
            "num.partitions=1\noffsets.topic.replication.factor=1\n"
            "offsets.topic.num.partitions=2\ntransaction.state.log.replication.factor=1\n"
            "transaction.state.log.min.isr=1\n"
            "share.coordinator.state.topic.replication.factor=1\n"
            "share.coordinator.state.topic.min.isr=1\n"
            "group.initial.rebalance.delay.ms=0\nauto.create.topics.enable=false\n"
        )

    def _java(self) -> list[str]:
        return [
            "java",
            "-Xms128m",
            "-Xmx512m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",  # C1 only: start-up time is what counts here
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={ROOT / 'deploy' / 'kafka' / 'log4j2.yaml'}",
            f"-Dkafka.logs.dir={self.folder / 'logs'}",
            "-cp",
            f"{kafka_libs()}/*",
        ]

    async def start(self) -> None:
        config = self.folder / "server.properties"
        config.write_text(self.properties())
        (self.folder / "logs").mkdir(exist_ok=True)
        format_storage = [*self._java(), "kafka.tools.StorageTool", "format"]
        # What `kafka-storage random-uuid` prints: a base64url UUID without padding.
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        subprocess.run(
            [*format_storage, "-t", cluster_id, "-c", str(config)],
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
        await self.door.open()

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

    async def stop(self) -> None:
        await self.door.shut()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # its data dies with the test's folder
            self.proc.wait(timeout=30)
