"""The egress connector on real sockets: refused before any byte leaves, unless allowed."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from streams.publishing.adapters.http import TransportFailure, create_session, send
from streams.publishing.egress import EgressConnector


class Rebinding(AbstractResolver):
    """A DNS answer that a pre-flight check would have called public, then 127.0.0.1."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host, host="127.0.0.1", port=port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        return None


@pytest.fixture
async def local_server() -> AsyncIterator[tuple[int, list[str]]]:
    hits: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield port, hits
    await runner.cleanup()


async def refused(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> TransportFailure:
    with pytest.raises(TransportFailure) as caught:
        await send(session, "POST", url, **kwargs)
    return caught.value


async def test_loopback_is_refused_on_the_connected_address(
    local_server: tuple[int, list[str]],
) -> None:
    port, hits = local_server
    async with create_session() as session:
        failure = await refused(session, f"https://127.0.0.1:{port}/hook")
    assert failure.refused and not failure.maybe_sent
    assert "loopback" in failure.summary
    assert hits == []


async def test_a_name_rebound_to_loopback_is_refused(local_server: tuple[int, list[str]]) -> None:
    port, hits = local_server
    connector = EgressConnector(resolver=Rebinding())
    async with aiohttp.ClientSession(connector=connector) as session:
        failure = await refused(session, f"https://hooks.example.com:{port}/hook")
    assert failure.refused
    assert hits == []


async def test_plain_http_is_refused_without_allow_private(
    local_server: tuple[int, list[str]],
) -> None:
    port, hits = local_server
    async with create_session() as session:
        failure = await refused(session, f"http://127.0.0.1:{port}/hook")
    assert failure.refused and "https" in failure.summary
    assert hits == []


async def test_allow_private_lets_http_to_loopback_through(
    local_server: tuple[int, list[str]],
) -> None:
    port, hits = local_server
    async with create_session(allow_private=True) as session:
        answer = await send(session, "POST", f"http://127.0.0.1:{port}/hook")
    assert answer.status == 200
    assert hits == ["/hook"]


class SeveralForbidden(AbstractResolver):
    """A name with a loopback and a private address: both refused, for different reasons."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=socket.AF_INET, proto=0, flags=0)
            for a in ("127.0.0.1", "10.255.255.1")
        ]

    async def close(self) -> None:
        return None


async def test_several_forbidden_addresses_are_still_a_refusal(
    local_server: tuple[int, list[str]],
) -> None:
    port, hits = local_server
    connector = EgressConnector(resolver=SeveralForbidden())
    async with aiohttp.ClientSession(connector=connector) as session:
        failure = await refused(session, f"https://hooks.example.com:{port}/hook")
    assert failure.refused
    assert hits == []
