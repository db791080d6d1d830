"""Mounts the MCP server at /mcp on the aiohttp app: the token first, then the SDK.

The SDK's streamable-HTTP session manager runs stateless with JSON answers: every POST
is self-contained, so any API process (several share the port, SO_REUSEPORT) can
answer any request, and no session outlives its request (docs/decisions.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from api.auth.guard import authenticate
from api.commands.body import MAX_BODY_BYTES
from api.mcp.asgi import serve
from api.mcp.caller import SCOPE_KEY, Caller, base_url_of
from api.mcp.server import build_server

PATH = "/mcp"
MANAGER = web.AppKey("mcp_manager", StreamableHTTPSessionManager)


class Loopback:
    """The session tools send their commands with, open while the app runs."""

    session: aiohttp.ClientSession | None = None


LOOPBACK = web.AppKey("mcp_loopback", Loopback)
# A tool's command waits for its produce (acks=all); well under the client's timeout.
LOOPBACK_TIMEOUT = aiohttp.ClientTimeout(total=30)


async def endpoint(request: web.Request) -> web.StreamResponse:
    who = await authenticate(request)  # 401 problem without a valid token
    token = request.headers["Authorization"].partition(" ")[2].strip()
    session = request.app[LOOPBACK].session
    if session is None:  # only between start-up steps; aiohttp serves after them
        raise web.HTTPServiceUnavailable()
    caller = Caller(who, token, request.app, base_url_of(request), session)
    return await serve(request.app[MANAGER].handle_request, request, {SCOPE_KEY: caller})


async def _running(app: web.Application) -> AsyncIterator[None]:
    # The manager's task group must be entered and left by one task; aiohttp may run
    # start-up and clean-up in different ones, so it gets a task of its own.
    stop = asyncio.Event()
    started = asyncio.Event()

    async def run() -> None:
        async with app[MANAGER].run():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run(), name="mcp-session-manager")
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # raises what stopped it
    session = app[LOOPBACK].session = aiohttp.ClientSession(timeout=LOOPBACK_TIMEOUT)
    try:
        yield
    finally:
        app[LOOPBACK].session = None
        await session.close()
        stop.set()
        await task


def mount(app: web.Application) -> None:
    app[MANAGER] = StreamableHTTPSessionManager(
        app=build_server(),
        stateless=True,
        json_response=True,
        max_request_body_size=MAX_BODY_BYTES,  # the same 1 MiB as every JSON route
        # Host/Origin checks guard cookie-authenticated local servers against DNS
        # rebinding; every request here carries a bearer token a page cannot forge.
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    app[LOOPBACK] = Loopback()
    app.cleanup_ctx.append(_running)
    # POST only. Stateless, the server never speaks first, so the standalone SSE stream
    # a GET would open could carry nothing and would stay open for good; there is no
    # session for a DELETE to end. Both are 405, as the transport allows.
    app.router.add_post(PATH, endpoint)
