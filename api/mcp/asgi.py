"""Serving one aiohttp request with an ASGI application (the MCP SDK's transport).

Only what an ASGI 3 HTTP app needs: the scope, ``receive`` streaming the request body
then reporting a disconnect once the answer is complete, and ``send`` writing the
answer as it comes (streamed, so an SSE answer is not held back). Nothing here knows
about MCP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from aiohttp import web

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_PIECE = 64 * 1024


def _address(info: Any) -> list[Any] | None:
    # (host, port) for TCP (IPv6 adds flow info and scope id); None for a Unix socket.
    return [info[0], info[1]] if isinstance(info, tuple) and len(info) >= 2 else None


def scope_of(request: web.Request, extra: dict[str, Any]) -> Scope:
    transport = request.transport
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": f"{request.version.major}.{request.version.minor}",
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.raw_path.split("?", 1)[0].encode(),
        "query_string": request.query_string.encode(),
        "root_path": "",
        "headers": [(k.lower(), v) for k, v in request.raw_headers],
        "client": _address(transport.get_extra_info("peername")) if transport else None,
        "server": _address(transport.get_extra_info("sockname")) if transport else None,
        "state": {},
        **extra,
    }


class _Exchange:
    """One request/answer pair between aiohttp and the ASGI app."""

    def __init__(self, request: web.Request) -> None:
        self.request = request
        self.response: web.StreamResponse | None = None
        self.finished = asyncio.Event()
        self._body_sent = False
        self._status = 500
        self._headers: list[tuple[str, str]] = []

    async def receive(self) -> Message:
        if not self._body_sent:
            # At least one http.request message, empty for a request without a body
            # (ASGI: the app reads until more_body is false, GETs included).
            content = self.request.content
            body = b"" if content.at_eof() else await content.read(BODY_PIECE)
            self._body_sent = content.at_eof()
            return {"type": "http.request", "body": body, "more_body": not self._body_sent}
        # The body is consumed: the next thing to happen is the end of the exchange.
        await self.finished.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._status = int(message["status"])
            self._headers = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
            ]
        elif message["type"] == "http.response.body":
            response = await self._started()
            body = message.get("body", b"")
            if body:
                await response.write(body)
            if not message.get("more_body", False):
                await response.write_eof()
                self.finished.set()

    async def _started(self) -> web.StreamResponse:
        if self.response is None:
            response = web.StreamResponse(status=self._status)
            for name, value in self._headers:
                response.headers.add(name, value)
            await response.prepare(self.request)
            self.response = response
        return self.response


async def serve(app: AsgiApp, request: web.Request, extra: dict[str, Any]) -> web.StreamResponse:
    """Runs ``app`` for ``request``; ``extra`` goes into the scope (who is calling)."""
    exchange = _Exchange(request)
    try:
        await app(scope_of(request, extra), exchange.receive, exchange.send)
    finally:
        exchange.finished.set()
    if exchange.response is None:
        # The app ended without answering: a bug of ours, never the client's input.
        raise web.HTTPInternalServerError()
    return exchange.response
