"""Kafka or PostgreSQL down: the API starts, answers 503 quickly, and recovers by itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.processes import free_port
from wavestack.settings import Settings

Factory = Callable[..., Awaitable[TestClient[Any, Any]]]
Headers = Callable[..., dict[str, str]]
ITEM = {"platform": "youtube", "title": "Hello"}


class Relay:
    """A TCP relay to a real service that the test can switch on and off."""

    def __init__(self, target: tuple[str, int], *, answer: bool = True) -> None:
        self.port = free_port()
        self.target = target
        self.answer = answer  # False: accept connections and never say a word
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if not self.answer:
                await reader.read()  # swallow everything, answer nothing
                return
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@pytest.fixture
async def relays() -> AsyncIterator[list[Relay]]:
    made: list[Relay] = []
    yield made
    for relay in made:
        await relay.stop()


def pg_target(settings: Settings) -> tuple[str, int]:
    host, _, port = settings.dsn.split("@")[-1].split("/")[0].rpartition(":")
    return host, int(port)


def dsn_via(settings: Settings, port: int) -> str:
    host_port = settings.dsn.split("@")[-1].split("/")[0]
    return settings.dsn.replace(host_port, f"127.0.0.1:{port}")


async def test_with_kafka_unreachable_a_command_is_a_quick_503_with_retry_after(
    client_factory: Factory, bearer: Headers
) -> None:
    client = await client_factory(kafka_bootstrap=f"127.0.0.1:{free_port()}")
    assert (await client.get("/healthz")).status == 200
    started = time.monotonic()
    resp = await client.post("/v1/queue", json=ITEM, headers=bearer() | {"Idempotency-Key": "k"})
    assert resp.status == 503
    assert time.monotonic() - started < 5
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["dependency"] == "kafka"

    ready = await client.get("/readyz")
    assert ready.status == 503
    body = await ready.json()
    assert body["unavailable"] == ["kafka"]
    assert body["checks"]["postgresql"] == "ok"


async def test_a_broker_that_never_answers_is_a_503_within_seconds_not_a_hang(
    client_factory: Factory, bearer: Headers, relays: list[Relay]
) -> None:
    silent = Relay(("127.0.0.1", 1), answer=False)
    relays.append(silent)
    await silent.start()
    client = await client_factory(kafka_bootstrap=f"127.0.0.1:{silent.port}")
    started = time.monotonic()
    resp = await client.post("/v1/queue", json=ITEM, headers=bearer() | {"Idempotency-Key": "k"})
    assert resp.status == 503
    assert time.monotonic() - started < 8


async def test_the_api_recovers_when_kafka_comes_back(
    client_factory: Factory, bearer: Headers, relays: list[Relay], settings: Settings
) -> None:
    host, _, port = settings.kafka_bootstrap.rpartition(":")
    relay = Relay((host, int(port)))
    relays.append(relay)
    client = await client_factory(kafka_bootstrap=f"127.0.0.1:{relay.port}")
    headers = bearer() | {"Idempotency-Key": "recover"}
    assert (await client.post("/v1/queue", json=ITEM, headers=headers)).status == 503

    await relay.start()
    deadline = time.monotonic() + 15
    status = 503
    while status == 503 and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        status = (await client.post("/v1/queue", json=ITEM, headers=headers)).status
    assert status == 202
    assert (await client.get("/readyz")).status == 200


async def test_with_postgresql_unreachable_reads_are_503_and_commands_still_accepted(
    client_factory: Factory, bearer: Headers, settings: Settings
) -> None:
    client = await client_factory(database_url=dsn_via(settings, free_port()))
    resp = await client.get("/v1/queue", headers=bearer())
    assert resp.status == 503
    assert resp.headers["Retry-After"]
    assert (await resp.json())["dependency"] == "postgresql"
    ready = await client.get("/readyz")
    assert (await ready.json())["unavailable"] == ["postgresql"]
    # The idempotency pre-check is an optimisation the decider repeats: no 503 for it.
    post = await client.post("/v1/queue", json=ITEM, headers=bearer() | {"Idempotency-Key": "p"})
    assert post.status == 202


async def test_the_api_recovers_when_postgresql_comes_back(
    client_factory: Factory, bearer: Headers, relays: list[Relay], settings: Settings
) -> None:
    relay = Relay(pg_target(settings))
    relays.append(relay)
    client = await client_factory(database_url=dsn_via(settings, relay.port))
    assert (await client.get("/v1/queue", headers=bearer())).status == 503
    await relay.start()
    resp = await client.get("/v1/queue", headers=bearer())
    assert resp.status == 200
    # And again after it goes away and comes back (pooled connections are dropped).
    await relay.stop()
    # The pooled connection died with the relay: a 503, not a 500, on first use too.
    assert (await client.get("/v1/queue", headers=bearer())).status == 503
    assert (await client.get("/v1/queue", headers=bearer())).status == 503
    await relay.start()
    assert (await client.get("/v1/queue", headers=bearer())).status == 200
