"""A dedicated single KRaft broker whose client listeners require TLS, or TLS and SCRAM.

Same jars and same way of starting as the dev stack (deploy/scripts/stack.sh): the
storage is formatted with the KRaft storage tool, which also writes the SCRAM user
into the metadata log, then ``kafka.Kafka`` runs. Listeners, all on 127.0.0.1:

- SASL_SSL (SCRAM-SHA-512): what the WaveStack processes under test use;
- SSL (server certificate only, no client authentication);
- PLAINTEXT for the broker's own replication and the controller, never used by clients.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.integration.security.certs import BrokerTls, make_broker_tls

ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT_S = 60.0
READY_LINE = "Kafka Server started"
MECHANISM = "SCRAM-SHA-512"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def kafka_libs() -> Path:
    stack = Path(os.environ.get("WAVESTACK_STACK_DIR", ROOT / ".stack"))
    libs = stack / "kafka" / "libs"
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise RuntimeError(f"no Kafka jars in {libs} (run `make install`)")
    return libs


@dataclass
class SecureBroker:
    folder: Path
    username: str
    password: str
    tls: BrokerTls
    sasl_ssl_port: int
    ssl_port: int
    internal_port: int
    controller_port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def sasl_ssl_bootstrap(self) -> str:
        return f"127.0.0.1:{self.sasl_ssl_port}"

    @property
    def ssl_bootstrap(self) -> str:
        return f"127.0.0.1:{self.ssl_port}"

    def properties(self) -> str:
        keystore = (
            f"ssl.keystore.type=PKCS12\nssl.keystore.location={self.tls.keystore}\n"
            f"ssl.keystore.password={self.tls.keystore_password}\n"
            f"ssl.key.password={self.tls.keystore_password}\n"
        )
        return (
            "process.roles=broker,controller\nnode.id=1\n"
            f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}\n"
            f"listeners=SASL_SSL://127.0.0.1:{self.sasl_ssl_port},"
            f"SSL://127.0.0.1:{self.ssl_port},INTERNAL://127.0.0.1:{self.internal_port},"
            f"CONTROLLER://127.0.0.1:{self.controller_port}\n"
            f"advertised.listeners=SASL_SSL://127.0.0.1:{self.sasl_ssl_port},"
            f"SSL://127.0.0.1:{self.ssl_port},INTERNAL://127.0.0.1:{self.internal_port}\n"
            "listener.security.protocol.map=SASL_SSL:SASL_SSL,SSL:SSL,"
            "INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
            "controller.listener.names=CONTROLLER\ninter.broker.listener.name=INTERNAL\n"
            f"sasl.enabled.mechanisms={MECHANISM}\n"
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
            "org.apache.kafka.common.security.scram.ScramLoginModule required;\n"
            f"{keystore}"
            "ssl.client.auth=none\n"
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
            # C1 only: a test broker lives for seconds, start-up time is what counts.
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={ROOT / 'deploy' / 'kafka' / 'log4j2.yaml'}",
            f"-Dkafka.logs.dir={self.folder / 'logs'}",
            "-cp",
            f"{kafka_libs()}/*",
        ]

    def start(self) -> None:
        config = self.folder / "server.properties"
        config.write_text(self.properties())
        (self.folder / "logs").mkdir(exist_ok=True)
        scram = f"{MECHANISM}=[name={self.username},password={self.password}]"
        subprocess.run(
            [
                *self._java(),
                "kafka.tools.StorageTool",
                "format",
                "-t",
                _cluster_id(),
                "-c",
                str(config),
                "--add-scram",
                scram,
            ],
            check=True,
            capture_output=True,
            timeout=60,
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

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # SIGKILL: its data dies with the test's folder, a clean shutdown buys nothing.
        self.proc.kill()
        self.proc.wait(timeout=30)


def _cluster_id() -> str:
    # What `kafka-storage random-uuid` prints: a base64url UUID without padding.
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def new_secure_broker(folder: Path) -> SecureBroker:
    return SecureBroker(
        folder=folder,
        username="wavestack-test",
        password=f"scram-{uuid.uuid4().hex}",
        tls=make_broker_tls(folder / "tls", f"ks-{uuid.uuid4().hex[:12]}"),
        sasl_ssl_port=free_port(),
        ssl_port=free_port(),
        internal_port=free_port(),
        controller_port=free_port(),
    )
