"""A TCP proxy on 127.0.0.1 that breaks one connection mid-request, for real.

Armed, it forwards the first ``cut_after`` bytes a client sends on a connection and
then aborts both sides: the API sees a request body end early, the client a reset.
"""

from __future__ import annotations

import asyncio
import contextlib


class CuttingProxy:
    def __init__(self, upstream_port: int, cut_after: int) -> None:
        self.upstream_port = upstream_port
        self.cut_after = cut_after
        self.armed = True
        self.cuts = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def upstream() -> None:
            sent = 0
            while data := await reader.read(64 * 1024):
                if self.armed and sent + len(data) > self.cut_after:
                    up_writer.write(data[: self.cut_after - sent])
                    await up_writer.drain()
                    await asyncio.sleep(0.2)  # let the API read what did arrive
                    self.armed = False
                    self.cuts += 1
                    up_writer.transport.abort()
                    writer.transport.abort()
                    return
                sent += len(data)
                up_writer.write(data)
                await up_writer.drain()

        async def downstream() -> None:
            while data := await up_reader.read(64 * 1024):
                writer.write(data)
                await writer.drain()

        with contextlib.suppress(ConnectionError, OSError):
            await asyncio.gather(upstream(), downstream())
        for w in (writer, up_writer):
            w.close()
