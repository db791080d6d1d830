"""Outbound webhooks: the delivery process from the events topic to a local receiver.

The delivery process runs in this process on fresh topics and schema; a subscription
is made as the decider would record it (its key row, then `WebhookCreated` on the
events topic), and the events it takes are produced straight onto the events topic,
so the figures are the delivery process's own: consume, due row, claim, signed POST,
the attempt's record on the commands topic, the row moved on.

- Throughput: a backlog of ``BACKLOG`` events, delivered with ``LANES`` requests in
  flight, against a bare aiohttp client posting the same signed bodies to the same
  kind of receiver with the same concurrency and, like the delivery process's session,
  no connector pool limits.
- Latency: ``RATE`` events/s for ``SECONDS`` s; event produced -> request received.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from aiokafka import AIOKafkaProducer

from schemas.codec import encode, wrap
from schemas.envelope import Actor
from schemas.events import ProjectCreated
from schemas.webhooks import WebhookCreated
from streams.publishing.signing import sign_headers, verify
from streams.runtime.sending import TYPE_HEADER
from streams.webhooks.app import WebhookProcess
from streams.webhooks.store import schema_of
from tests.bench.harness import percentile
from vault import keytable, webhook_secrets
from vault.keyring import KeyRing, generate_entry
from wavestack.settings import Settings

BACKLOG = 2_000
LANES = 16
RATE = 100
SECONDS = 5
ORG = "org-bench"
ACTOR = Actor(sub="bench", kind="service")
TIMEOUT_S = 120.0


class Receiver:
    """Verifies every signature (our verifier) and stamps each webhook-id's first arrival."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.first: dict[str, float] = {}
        self.app = web.Application()
        self.app.router.add_post("/hook", self._hook)
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        webhook_id = verify(self.secret, request.headers, body, time.time())
        self.first.setdefault(webhook_id, time.monotonic())
        return web.Response(status=204)

    async def wait(self, count: int) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        while len(self.first) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)


def _event(message: Any, aggregate: uuid.UUID, sequence: int) -> tuple[bytes, bytes]:
    event_id = uuid.uuid4()
    envelope = wrap(
        message,
        id=event_id,
        org_id=ORG,
        aggregate_id=aggregate,
        sequence=sequence,
        occurred_at=datetime.now(UTC),
        command_id=event_id,
        correlation_id=event_id,
        causation_id=event_id,
        actor=ACTOR,
    )
    return str(aggregate).encode(), encode(envelope)


async def _subscribe(settings: Settings, ring: KeyRing, url: str, producer: Any) -> str:
    """The subscription's key row and WebhookCreated, as API and decider make them."""
    sub_id = uuid.uuid4()
    row = webhook_secrets.new_row(ring, ORG, str(sub_id))
    conn = await asyncpg.connect(settings.dsn)
    try:
        await keytable.create_table(conn, settings.db_schema)
        await keytable.store(conn, settings.db_schema, row)
    finally:
        await conn.close()
    created = WebhookCreated(
        url=url, event_types=[ProjectCreated.TYPE], description="bench", key_id=ring.primary
    )
    key, value = _event(created, sub_id, 1)
    await producer.send_and_wait(
        settings.topics.events, value, key=key, headers=[(TYPE_HEADER, created.TYPE.encode())]
    )
    command_id = json.loads(value)["command_id"]
    data_key = webhook_secrets.data_key(row, ring)
    return webhook_secrets.derive_secret(data_key, ORG, str(sub_id), uuid.UUID(command_id))


async def _caught_up(settings: Settings) -> None:
    """Until the new subscription's catch-up job has run: it reads the events topic
    from the subscription's creation, once, and is not what the figures are about."""
    conn = await asyncpg.connect(settings.dsn)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            with contextlib.suppress(asyncpg.UndefinedTableError):
                done = await conn.fetchval(
                    f"""SELECT count(*) > 0 AND bool_and(done_at IS NOT NULL)
                        FROM "{schema_of(settings.db_schema)}".replays"""
                )
                if done:
                    return
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    raise TimeoutError("the subscription's catch-up did not finish")


async def _produce(
    settings: Settings, producer: Any, count: int, rate: float | None
) -> list[float]:
    """``count`` ProjectCreated events; returns their produce times (monotonic)."""
    times: list[float] = []
    header = [(TYPE_HEADER, ProjectCreated.TYPE.encode())]
    start = time.monotonic()
    for i in range(count):
        if rate is not None:
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        key, value = _event(ProjectCreated(name=f"p{i}"), uuid.uuid4(), 1)
        times.append(time.monotonic())
        await producer.send(settings.topics.events, value, key=key, headers=header)
    await producer.flush()
    return times


async def through_delivery(settings: Settings) -> dict[str, float]:
    ring_text = generate_entry("bench")
    ring = KeyRing.parse(ring_text)
    settings = settings.model_copy(
        update={
            "egress_allow_private": True,
            "webhook_concurrency_per_subscription": LANES,
            "webhook_poll_seconds": 0.05,
        }
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5)
    await producer.start()
    receiver = Receiver("whsec_AA==")
    await receiver.start()
    process = WebhookProcess(settings, ring)
    task = asyncio.create_task(process.run())
    try:
        receiver.secret = await _subscribe(settings, ring, receiver.url, producer)
        await _caught_up(settings)
        # Throughput: a backlog, from the first produce to the last first arrival.
        cpu = time.process_time()
        sent = await _produce(settings, producer, BACKLOG, None)
        await receiver.wait(BACKLOG)
        cpu = time.process_time() - cpu
        delivered = len(receiver.first)
        elapsed = max(receiver.first.values()) - sent[0]
        throughput = delivered / elapsed
        # Latency at a steady rate.
        before = set(receiver.first)
        count = RATE * SECONDS
        sent_times = await _produce(settings, producer, count, RATE)
        await receiver.wait(BACKLOG + count)
        arrivals = sorted(t for k, t in receiver.first.items() if k not in before)
        latencies = [(a - s) * 1000 for a, s in zip(arrivals, sorted(sent_times), strict=False)]
    finally:
        process.stop()
        await asyncio.wait_for(task, 30)
        await receiver.stop()
        await producer.stop()
        conn = await asyncpg.connect(settings.dsn)
        try:
            for schema in (keytable.key_schema(settings.db_schema), schema_of(settings.db_schema)):
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()
    return {
        "delivered": float(delivered),
        "deliveries/s": throughput,
        "CPU ms per delivery": cpu * 1000 / max(1, delivered),
        "p50 ms at 100/s": percentile(latencies, 50),
        "p99 ms at 100/s": percentile(latencies, 99),
    }


async def bare(secret: str, bodies: list[tuple[str, bytes]]) -> tuple[float, float]:
    """Deliveries/s of a bare aiohttp client (the same signed bodies, LANES in flight),
    and the CPU ms of this process per delivery (client and receiver)."""
    receiver = Receiver(secret)
    await receiver.start()
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
    try:
        async with aiohttp.ClientSession(connector=connector) as session:

            async def worker() -> None:
                while not queue.empty():
                    webhook_id, body = queue.get_nowait()
                    headers = sign_headers([secret], webhook_id, int(time.time()), body)
                    async with session.post(receiver.url, data=body, headers=headers) as r:
                        await r.read()

            start, cpu = time.monotonic(), time.process_time()
            await asyncio.gather(*(worker() for _ in range(LANES)))
            cpu = time.process_time() - cpu
            return len(bodies) / (time.monotonic() - start), cpu * 1000 / len(bodies)
    finally:
        await receiver.stop()


async def run(settings: Settings) -> dict[str, float]:
    figures = await through_delivery(settings)
    secret = "whsec_" + "YmVuY2gtc2VjcmV0LWtleS0wMTIzNDU2Nzg5YWJjZGVm"
    bodies = [
        (
            str(uuid.uuid4()),
            json.dumps({"type": "project.ProjectCreated", "data": {"i": i}}).encode(),
        )
        for i in range(BACKLOG)
    ]
    baseline, cpu_ms = await bare(secret, bodies)
    figures["bare aiohttp deliveries/s"] = baseline
    figures["bare CPU ms per delivery"] = cpu_ms
    figures["ratio vs bare (>= 0.3)"] = figures["deliveries/s"] / baseline
    figures["p99 target ms"] = 1000.0
    return figures
