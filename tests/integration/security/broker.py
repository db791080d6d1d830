"""A dedicated single KRaft broker whose client listeners require TLS, or TLS and SCRAM.

Started as every test broker is (tests/integration/kafka_broker.py); the storage tool
also writes the SCRAM user into the metadata log. Listeners, all on 127.0.0.1:

- SASL_SSL (SCRAM-SHA-512): what the WaveStack processes under test use;
- SSL (server certificate only, no client authentication);
- PLAINTEXT for the broker's own replication and the controller, never used by clients.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.kafka_broker import BrokerProcess, single_node
from tests.integration.security.certs import BrokerTls, make_broker_tls
from tests.processes import free_port

MECHANISM = "SCRAM-SHA-512"


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
    process: BrokerProcess = field(init=False)

    def __post_init__(self) -> None:
        self.process = BrokerProcess(self.folder)

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
        return single_node(
            self.folder,
            self.controller_port,
            f"listeners=SASL_SSL://127.0.0.1:{self.sasl_ssl_port},"
            f"SSL://127.0.0.1:{self.ssl_port},INTERNAL://127.0.0.1:{self.internal_port},"
            f"CONTROLLER://127.0.0.1:{self.controller_port}\n"
            f"advertised.listeners=SASL_SSL://127.0.0.1:{self.sasl_ssl_port},"
            f"SSL://127.0.0.1:{self.ssl_port},INTERNAL://127.0.0.1:{self.internal_port}\n"
            "listener.security.protocol.map=SASL_SSL:SASL_SSL,SSL:SSL,"
            "INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
            f"sasl.enabled.mechanisms={MECHANISM}\n"
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
            "org.apache.kafka.common.security.scram.ScramLoginModule required;\n"
            f"{keystore}"
            "ssl.client.auth=none\n",
        )

    def start(self) -> None:
        scram = f"{MECHANISM}=[name={self.username},password={self.password}]"
        self.process.start(self.properties(), "--add-scram", scram)

    def output(self) -> str:
        return self.process.output()

    def stop(self) -> None:
        self.process.kill()


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
