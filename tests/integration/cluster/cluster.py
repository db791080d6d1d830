"""The local 3-node Kafka cluster (deploy/scripts/cluster.sh) as a test fixture sees it."""

from __future__ import annotations

import asyncio
import os
import random
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

SCRIPT = Path(__file__).resolve().parents[3] / "deploy" / "scripts" / "cluster.sh"
NODES = (1, 2, 3)
# cluster.sh's layout: node N on BASE+N-1, its controller on BASE+100+N-1.
CONTROLLER_OFFSET = 100


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port() -> int:
    """A base port whose six ports are free: below Linux's ephemeral range (32768 and
    up, where any outgoing connection may take a port between check and bind) and away
    from the dev broker's 19092 and the default cluster's 29092."""
    for _ in range(100):
        base = random.choice([p for p in range(20000, 32500, 10) if not 28900 < p < 29300])
        ports = [base + n - 1 for n in NODES] + [base + CONTROLLER_OFFSET + n - 1 for n in NODES]
        if all(_free(p) for p in ports):
            return base
    raise AssertionError("no free ports for a test cluster")


@dataclass
class LocalCluster:
    """Three broker+controller JVMs under ``folder``, driven through cluster.sh."""

    folder: Path
    base_port: int

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.base_port + n - 1}" for n in NODES)

    async def _run(self, *args: str, timeout: float = 180.0) -> str:
        env = {
            **os.environ,
            "WAVESTACK_CLUSTER_DIR": str(self.folder),
            "WAVESTACK_CLUSTER_PORT": str(self.base_port),
        }
        proc = await asyncio.create_subprocess_exec(
            "bash",
            str(SCRIPT),
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        text = out.decode(errors="replace")
        assert proc.returncode == 0, f"cluster.sh {' '.join(args)} failed:\n{text}"
        return text

    async def start(self) -> None:
        """Starts the nodes that are down; returns when each has joined the cluster."""
        await self._run("start")

    async def stop(self) -> None:
        await self._run("stop", timeout=60)

    async def kill(self, node: int) -> None:
        """SIGKILL: the node's page cache survives, its process and sockets do not."""
        await self._run("kill", str(node), timeout=30)

    async def live_brokers(self) -> set[int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            cluster = await admin.describe_cluster()
            return {b["node_id"] for b in cluster["brokers"]}
        finally:
            await admin.close()

    async def leader_of(self, topic: str, partition: int = 0) -> int:
        [described] = await self.describe([topic])
        return int(
            next(p["leader"] for p in described["partitions"] if p["partition"] == partition)
        )

    async def describe(self, topics: list[str]) -> list[dict[str, Any]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            return list(await admin.describe_topics(topics))
        finally:
            await admin.close()

    async def wait_in_sync(self, topics: list[str], timeout: float = 60.0) -> None:
        """Until every partition of ``topics`` has all three replicas in sync again."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            described = await self.describe(topics)
            lagging = [
                (t["topic"], p["partition"], p["isr"])
                for t in described
                for p in t["partitions"]
                if len(p["isr"]) < len(NODES)
            ]
            if not lagging:
                return
            assert asyncio.get_running_loop().time() < deadline, f"not in sync: {lagging}"
            await asyncio.sleep(0.5)
