"""Asking a running process's probes, once or every few milliseconds in the background."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.processes import Child, free_port


async def ask(port: int, path: str) -> tuple[int, dict[str, Any]] | None:
    """The status and JSON body of ``path``; None while nothing listens on the port."""
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}{path}", timeout=aiohttp.ClientTimeout(3)) as r,
        ):
            body: dict[str, Any] = json.loads(await r.read())
            return r.status, body
    except (aiohttp.ClientError, TimeoutError):
        return None


async def until(
    child: Child, port: int, path: str, status: int, timeout: float = 120.0
) -> dict[str, Any]:
    """Polls ``path`` until it answers ``status``; its body then."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: tuple[int, dict[str, Any]] | None = None
    while True:
        last = await ask(port, path) or last
        if last is not None and last[0] == status:
            return last[1]
        if child.proc is not None and child.proc.returncode is not None:
            raise AssertionError(f"{child.command} exited early:\n{child.output()[-3000:]}")
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(
                f"{path} never answered {status} (last {last}):\n{child.output()[-3000:]}"
            )
        await asyncio.sleep(0.05)


@dataclass
class Sample:
    live: int
    ready: int
    reason: str  # "ready" when ready
    body: dict[str, Any]


@dataclass
class ProbeLog:
    """Both probes of one process, asked every 20 ms from the start until ``stop``."""

    port: int
    samples: list[Sample] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def start(self) -> ProbeLog:
        self._task = asyncio.create_task(self._sample())
        return self

    async def _sample(self) -> None:
        while True:
            live, ready = await ask(self.port, "/healthz"), await ask(self.port, "/readyz")
            if live is not None and ready is not None:
                reason = str(ready[1].get("reason", "ready"))
                self.samples.append(Sample(live[0], ready[0], reason, ready[1]))
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def caught_up(self, reason: str = "ready", timeout: float = 10.0) -> None:
        """Until the latest sample gives ``reason`` (the log lags a direct ask)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.samples or self.samples[-1].reason != reason:
            assert asyncio.get_running_loop().time() < deadline, self.reasons()
            await asyncio.sleep(0.02)

    def reasons(self) -> list[str]:
        """The readiness reasons seen, in order, each run of repeats once."""
        seen: list[str] = []
        for sample in self.samples:
            if not seen or seen[-1] != sample.reason:
                seen.append(sample.reason)
        return seen

    def since(self, mark: int) -> ProbeLog:
        return ProbeLog(self.port, self.samples[mark:])


class Door:
    """A TCP forwarder to ``upstream`` on a port of its own that can be shut and opened
    again: shut, nothing listens there and every connection through it is cut, as when
    the service behind it goes down."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def shut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._open.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(64 * 1024):
                dst.write(data)
                await dst.drain()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        except (ConnectionError, OSError):
            pass
        finally:
            for w in (writer, up_writer):
                self._open.discard(w)
                w.transport.abort()
