"""A single KRaft broker of one test's own, whose clients reach it through a door.

It listens on one port and advertises another, where a ``Door`` forwards to it: shut
the door and no client can reach the broker (every connection cut, nothing listening),
open it and they can again, while the broker itself runs on undisturbed. The shared
test broker cannot be taken away like that without failing every other test.
Started as every test broker is (tests/integration/kafka_broker.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.health.probing import Door
from tests.integration.kafka_broker import BrokerProcess, single_node
from tests.processes import free_port


@dataclass
class LoneBroker:
    folder: Path
    port: int = field(default_factory=free_port)
    internal_port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    door: Door = field(init=False)
    process: BrokerProcess = field(init=False)

    def __post_init__(self) -> None:
        self.door = Door("127.0.0.1", self.port)
        self.process = BrokerProcess(self.folder)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.door.port}"

    def properties(self) -> str:
        return single_node(
            self.folder,
            self.controller_port,
            f"listeners=CLIENT://127.0.0.1:{self.port},"
            f"INTERNAL://127.0.0.1:{self.internal_port},"
            f"CONTROLLER://127.0.0.1:{self.controller_port}\n"
            # Clients are told the door's port, so everything they send goes through it.
            f"advertised.listeners=CLIENT://127.0.0.1:{self.door.port},"
            f"INTERNAL://127.0.0.1:{self.internal_port}\n"
            "listener.security.protocol.map=CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,"
            "CONTROLLER:PLAINTEXT\n",
        )

    async def start(self) -> None:
        self.process.start(self.properties())
        await self.door.open()

    def output(self) -> str:
        return self.process.output()

    async def stop(self) -> None:
        await self.door.shut()
        self.process.kill()
