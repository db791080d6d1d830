"""WaveStack processes of every kind on one set of topics, each killable on its own.

Every process is a real `wavestack <command>` child, configured only through
WAVESTACK_* variables. Processes of one kind share a consumer group (the deciders,
the publishers, the projectors) or a key store (the API processes), but each has its
own data directory, log and metrics port, so a test can tell who did the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from tests.processes import Child, free_port
from wavestack.settings import Settings


class Member(Child):
    """One process of the fleet; ``restart`` after ``kill`` is the crash-and-recover."""

    def __init__(
        self,
        command: str,
        settings: Settings,
        folder: Path,
        name: str,
        *,
        args: Sequence[str] = (),
        metrics_port: int | None = None,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(command, settings, folder, args=args, name=name)
        self.name = name
        self.settings = settings
        self.metrics_port = metrics_port
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        await super().start()

    async def ready(self, timeout: float = 120.0) -> None:
        """Until this start is serving: the API answers /healthz, the others /readyz (their
        partitions assigned and restored) on their metrics port, as Kubernetes asks."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not await self._serving():
            if self.proc and self.proc.returncode is not None:
                raise AssertionError(f"{self.name} exited early:\n{self.output()[-3000:]}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.name} never got ready:\n{self.output()[-3000:]}")
            await asyncio.sleep(0.2)

    async def _serving(self) -> bool:
        if self.command == "api":
            url = f"{self.base_url}/healthz"
        else:
            assert self.metrics_port is not None, f"{self.name} serves no probes"
            url = f"http://127.0.0.1:{self.metrics_port}/readyz"
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(url, timeout=aiohttp.ClientTimeout(2)) as r,
            ):
                return r.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def restart(self) -> None:
        """Starts again at once and waits until it serves."""
        await self.start()
        await self.ready()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}"

    async def metric(self, name: str, **labels: str) -> float:
        """The sum of ``name``'s samples whose labels include ``labels`` (0 if none)."""
        assert self.metrics_port is not None, f"{self.name} serves no metrics"
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{self.metrics_port}/metrics") as resp,
        ):
            text = await resp.text()
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            sample, _, value = line.rpartition(" ")
            if all(f'{k}="{v}"' in sample for k, v in labels.items()):
                total += float(value)
        return total


def member(kind: str, settings: Settings, folder: Path, index: int) -> Member:
    """Process ``index`` of ``kind`` (api, decider, publisher, projector)."""
    name = f"{kind}-{index}"
    home = folder / name
    port = free_port()
    if kind == "api":
        own = settings.model_copy(update={"api_port": port})
        return Member("api", own, home, name)
    if kind == "projector":
        own = settings.model_copy(update={"projector_metrics_port": port})
        return Member("projector", own, home, name, metrics_port=port)
    # The decider and the publisher: their own data directory (and so their own static
    # member name); the publisher serves its metrics two ports above the setting.
    update: dict[str, object] = {"worker_data_dir": home / "data", "worker_metrics_port": port}
    if kind == "publisher":
        update["worker_metrics_port"] = port - 2
        own = settings.model_copy(update=update)
        return Member("publisher", own, home, name, metrics_port=port)
    own = settings.model_copy(update=update)
    return Member("worker", own, home, name, args=("--role", "decider"), metrics_port=port)


class Fleet:
    """Processes by kind; started together, stopped together."""

    def __init__(self, settings: Settings, folder: Path, counts: dict[str, int]) -> None:
        self.settings = settings
        self.members = {
            kind: [member(kind, settings, folder, i) for i in range(count)]
            for kind, count in counts.items()
        }

    def __getitem__(self, kind: str) -> list[Member]:
        return self.members[kind]

    @property
    def all(self) -> list[Member]:
        return [m for group in self.members.values() for m in group]

    async def start(self) -> None:
        """Every process at once, as a deploy starts them: two publishers starting
        together on a broker without automatic topic creation once left one of them
        without its changelogs, when Faust made them; each process now creates its own
        before it starts consuming (``streams.runtime.changelog.ensure_compacted``)."""
        for m in self.all:
            await m.start()
        await asyncio.gather(*(m.ready() for m in self.all))

    async def stop(self) -> list[int | None]:
        """SIGTERM to all at once (each a clean stop); their exit statuses."""
        return list(await asyncio.gather(*(m.stop(30.0) for m in self.all)))

    def output(self) -> str:
        return "\n".join(f"--- {m.name}\n{m.output()[-2500:]}" for m in self.all)
