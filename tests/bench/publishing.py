"""Publishing: 1,000 items due at the same second, from the log to a local webhook receiver.

A decider and a publisher run as processes (each with its own data directory) on
fresh topics; a webhook connection is made as the API makes it (key row, then
`CreateConnection`). All items are queued a few seconds ahead of one whole second;
the receiver (the Standard Webhooks fake, verifying every signature) stamps each
first delivery. Lateness is receipt time minus `schedule_at`; throughput is the
items over the time from that second to the last receipt; the publisher's CPU per
post is its process's CPU time over the same span, divided by the items.

The baseline is a bare aiohttp client posting the same signed payloads to a fresh
receiver of the same kind, with the publisher's concurrency: `WINDOW` events in
flight over a connector of the same limits as `create_session` (10 per host).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.codec import decode
from streams.publishing.agent import WINDOW
from streams.publishing.signing import sign_headers
from tests.bench.cpu import cpu_seconds
from tests.bench.harness import percentile
from tests.fakes.webhook import FakeWebhookReceiver
from tests.integration.publishing.harness import whsec
from tests.integration.publishing.pipeline import Pipeline
from wavestack.settings import Settings

ITEMS = 1_000
LEAD_S = 6.0  # queued this far ahead: the decider has decided them all by then
RUN_TIMEOUT_S = 90.0
BARE_ROUNDS = 3
PER_HOST = 10  # create_session's limit_per_host


class TimedReceiver(FakeWebhookReceiver):
    """The webhook fake, plus the wall-clock time of each item's first verified delivery."""

    def __init__(self, secret: str) -> None:
        super().__init__(secret)
        self.received_at: dict[str, float] = {}

    async def _deliver(self, request: web.Request) -> web.StreamResponse:
        response = await super()._deliver(request)
        if response.status == 200:
            # The body is cached by aiohttp; it was verified above.
            data = json.loads(await request.read()).get("data", {})
            self.received_at.setdefault(str(data.get("item_id")), time.time())
        return response


async def wait_for_deliveries(receiver: TimedReceiver, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.received_at) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(receiver.received_at)} of {count} posts arrived in time")
        await asyncio.sleep(0.05)


def whole_second_ahead(seconds: float) -> datetime:
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    return at.replace(microsecond=0) + timedelta(seconds=1)


async def through_publisher(base: Settings, workdir: Path) -> dict[str, float]:
    folder = workdir / f"publishing-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    pipeline = await Pipeline.start(base, folder, topic_partitions=6)
    try:
        receiver = TimedReceiver(whsec())
        await receiver.start()
        pipeline.receivers.append(receiver)
        connection = await pipeline.connect(receiver)
        # Warm-up: one post through the whole path (assignment, key row, TCP).
        await pipeline.send([pipeline.enqueue(connection, datetime.now(UTC), "warm-up")])
        await wait_for_deliveries(receiver, 1, 60.0)
        due = whole_second_ahead(LEAD_S)
        envelopes = [pipeline.enqueue(connection, due, f"Post {n}") for n in range(ITEMS)]
        await pipeline.send(envelopes)
        # The publisher's CPU from the moment the items are due (their folds before it
        # are not counted): a figure the shared machine's load changes less than rates.
        await asyncio.sleep(max(0.0, due.timestamp() - time.time()))
        proc = pipeline.publisher.proc
        assert proc is not None
        cpu = cpu_seconds(proc.pid)
        await wait_for_deliveries(receiver, ITEMS + 1, RUN_TIMEOUT_S)
        cpu = cpu_seconds(proc.pid) - cpu
        ids = {str(e.aggregate_id) for e in envelopes}
        times = [t for item, t in receiver.received_at.items() if item in ids]
        late = [t - due.timestamp() for t in times]
        # Where the time goes: the scheduler's claim (PublishStarted carries the
        # claim's time), the decider's PublishStarted on the log, the post arriving.
        claimed = [
            (e.occurred_at - due).total_seconds()
            for e in pipeline.events.of_type("queue.PublishStarted")
            if str(e.aggregate_id) in ids
        ]
        topics = pipeline.settings.topics
        claims = await on_log(pipeline.settings, topics.commands, "queue.StartPublish", ids)
        starts = await on_log(pipeline.settings, topics.events, "queue.PublishStarted", ids)
        return {
            "claim time p99 (s)": percentile(claimed, 99),
            "StartPublish logged p99 (s)": percentile([t - due.timestamp() for t in claims], 99),
            "PublishStarted logged p99": percentile([t - due.timestamp() for t in starts], 99),
            "lateness p50 (s)": percentile(late, 50),
            "lateness p99 (s)": percentile(late, 99),
            "lateness max (s)": max(late),
            "publisher posts/s": ITEMS / max(max(times) - due.timestamp(), 1e-3),
            "publisher CPU ms per post": cpu * 1000 / ITEMS,
        }
    finally:
        await pipeline.stop()


async def on_log(settings: Settings, topic: str, kind: str, ids: set[str]) -> list[float]:
    """The record timestamps of the items' messages of one type (seconds since epoch)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    await consumer.start()
    found: list[float] = []
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while await behind(consumer, ends):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    envelope = decode(record.value)
                    if envelope.type == kind and str(envelope.aggregate_id) in ids:
                        found.append(record.timestamp / 1000)
    finally:
        await consumer.stop()
    return found


def signed(secret: str, n: int) -> tuple[bytes, dict[str, str]]:
    """A body and headers shaped like the webhook adapter's, signed at send time."""
    now = datetime.now(UTC)
    attempt_id = "att_" + uuid.uuid4().hex
    body: dict[str, Any] = {
        "type": "wavestack.post",
        "timestamp": now.isoformat(),
        "data": {
            "item_id": str(uuid.uuid4()),
            "attempt_id": attempt_id,
            "title": f"Post {n}",
            "description": "",
            "target": {},
        },
    }
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = sign_headers([secret], attempt_id, int(now.timestamp()), raw)
    return raw, {**headers, "Content-Type": "application/json"}


async def bare_round() -> float:
    receiver = TimedReceiver(whsec())
    await receiver.start()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(ITEMS):
        queue.put_nowait(n)
    connector = aiohttp.TCPConnector(limit=100, limit_per_host=PER_HOST)
    try:
        async with aiohttp.ClientSession(connector=connector) as session:

            async def post_all() -> None:
                while not queue.empty():
                    body, headers = signed(receiver.secret, queue.get_nowait())
                    async with session.post(receiver.url(), data=body, headers=headers) as resp:
                        if resp.status != 200:
                            raise RuntimeError(f"bare post: {resp.status}")

            started = time.perf_counter()
            await asyncio.wait_for(
                asyncio.gather(*(post_all() for _ in range(WINDOW))), RUN_TIMEOUT_S
            )
            elapsed = time.perf_counter() - started
        if len(receiver.received_at) != ITEMS:
            raise RuntimeError(f"bare: {len(receiver.received_at)} of {ITEMS} verified")
        return ITEMS / elapsed
    finally:
        await receiver.stop()


async def run(base: Settings, workdir: Path) -> dict[str, float]:
    figures = await through_publisher(base, workdir)
    bare = statistics.median([await bare_round() for _ in range(BARE_ROUNDS)])
    figures["bare aiohttp posts/s"] = bare
    figures["ratio publisher / bare"] = figures["publisher posts/s"] / bare
    return figures


async def behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    """Whether some partition has records left before the end offsets taken earlier."""
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False
