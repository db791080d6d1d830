"""End-to-end latency: POST accepted (202) -> the item visible in the read model.

API, worker and projector run as separate processes, as users run them. Requests
leave on an open-loop schedule (request n at start + n/rate, whatever came before).

Two rates, two ways of watching:
- 100/s: each item polled through `GET /v1/queue/{id}` every 10 ms, as a client
  would (cheap at this rate);
- 1,000/s: polling every item over HTTP would be a load of its own (~2-5k GET/s on
  the same cores), and so was asking PostgreSQL for every pending id (a quarter of
  a core at this rate, growing with the backlog it measured). The projector commits
  each batch's rows and its positions in one transaction, so an item is visible
  from the moment the projection's position passes its ``ItemEnqueued``: one
  connection polls the positions (one row per partition) every POLL_DB_S, and
  after the run each item's event is read back from the events topic and looked
  up on that timeline. The latency is 202 -> the first poll that saw it
  (resolution: one poll interval plus one query); the rows are counted at the end,
  to show the invariant held. The POSTs go through a lean HTTP/1.1 client
  (tests/bench/loadgen.py): aiohttp's took a third of a core at this rate, beside
  the processes it measures.

Both finish in bounded time: whatever is still invisible DEADLINE_S after the last
request (at 1,000/s: once the positions stood still for QUIET_S) is counted as such
and left out of the percentiles.

Where the time goes at 1,000/s: each item's ``ItemEnqueued`` is read back from the
events topic; its record's timestamp (set by the decider's producer when it sent the
decision) splits the latency into 202 -> decided and decided -> visible (wall clocks
of one machine, so the two add up to the total within a millisecond).
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiokafka import AIOKafkaConsumer

from api.auth.cli import issue_token_from_settings
from projections.config import PROJECTION
from schemas.codec import decode
from schemas.events import ItemEnqueued
from tests.bench.harness import percentile, running, wait_http
from tests.bench.loadgen import BenchHttpError, LeanClient
from tests.processes import Child
from wavestack.settings import Settings

SLOW_RATE_PER_S = 100
SLOW_DURATION_S = 10
FAST_RATE_PER_S = 1000
FAST_DURATION_S = 15
POLL_HTTP_S = 0.01
POLL_DB_S = 0.005
# After the last request: the projection's positions still for this long = drained.
QUIET_S = 3.0
POSITIONS = "SELECT topic, partition, next_offset FROM projection_offsets WHERE projection = $1"
DEADLINE_S = 30.0


@dataclass
class Run:
    accepted: dict[uuid.UUID, float] = field(default_factory=dict)  # item id -> 202 time
    accepted_wall: dict[uuid.UUID, float] = field(default_factory=dict)  # the same, time.time()
    visible: dict[uuid.UUID, float] = field(default_factory=dict)  # item id -> seen time
    pending: dict[uuid.UUID, None] = field(default_factory=dict)  # accepted, not seen yet
    refused: Counter[int] = field(default_factory=Counter)  # status -> count
    lag_s: float = 0.0  # how late the last request left against its schedule

    def figures(self, rate: int, how: str) -> dict[str, float | str]:
        ms = [(self.visible[i] - t) * 1000 for i, t in self.accepted.items() if i in self.visible]
        return {
            "rate_per_s": rate,
            "observed": how,
            "accepted": len(self.accepted),
            "not_accepted": sum(self.refused.values()),
            "unanswered_at_deadline": self.refused[0],
            "invisible_at_deadline": len(self.accepted) - len(ms),
            "send_lag_ms": self.lag_s * 1000,
            "p50_ms": percentile(ms, 50),
            "p99_ms": percentile(ms, 99),
            "max_ms": max(ms, default=float("nan")),
        }


async def _post(session: aiohttp.ClientSession, base: str, key: str, run: Run) -> uuid.UUID | None:
    try:
        async with session.post(
            f"{base}/v1/queue", json=_item(key), headers={"Idempotency-Key": key}
        ) as resp:
            return _answered(run, resp.status, await resp.read())
    except (aiohttp.ClientError, TimeoutError):
        run.refused[0] += 1  # 0: no answer (connection error or over the deadline)
        return None


async def _post_lean(client: LeanClient, key: str, run: Run, timeout: float) -> None:
    body = json.dumps(_item(key)).encode()
    try:
        async with asyncio.timeout(timeout):
            resp = await client.post_json("/v1/queue", body, {"Idempotency-Key": key})
    except (OSError, asyncio.IncompleteReadError, BenchHttpError, TimeoutError):
        run.refused[0] += 1
        return
    _answered(run, resp.status, resp.body)


def _item(key: str) -> dict[str, str]:
    return {"platform": "youtube", "title": f"latency {key}"}


def _answered(run: Run, status: int, body: bytes) -> uuid.UUID | None:
    """Records a POST's answer; the accepted item's id."""
    if status != 202:
        run.refused[status] += 1
        return None
    item_id = uuid.UUID(json.loads(body)["id"])
    run.accepted[item_id] = time.perf_counter()
    run.accepted_wall[item_id] = time.time()
    run.pending[item_id] = None
    return item_id


async def open_loop(
    rate: int, seconds: float, one: Callable[[int], Coroutine[Any, Any, None]], run: Run
) -> list[asyncio.Task[None]]:
    tasks = []
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    run.lag_s = max(0.0, time.perf_counter() - (start + (int(rate * seconds) - 1) / rate))
    return tasks


async def watch_http(base: str, token: str, run_id: str, rate: int, seconds: float) -> Run:
    run = Run()
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=200)
    timeout = aiohttp.ClientTimeout(total=seconds + DEADLINE_S)
    session = aiohttp.ClientSession(headers=headers, connector=connector, timeout=timeout)
    async with session:
        deadline = time.perf_counter() + seconds + DEADLINE_S

        async def one(n: int) -> None:
            item_id = await _post(session, base, f"{run_id}-{n}", run)
            while item_id is not None and time.perf_counter() < deadline:
                try:
                    resp = await session.get(f"{base}/v1/queue/{item_id}")
                except (aiohttp.ClientError, TimeoutError):
                    return  # stays invisible
                async with resp:
                    await resp.read()
                    if resp.status == 200:
                        run.visible[item_id] = time.perf_counter()
                        del run.pending[item_id]
                        return
                await asyncio.sleep(POLL_HTTP_S)

        tasks = await open_loop(rate, seconds, one, run)
        await asyncio.gather(*tasks)
    return run


@dataclass
class Timeline:
    """The projection's committed positions as a poller saw them: per partition, the
    times at which its next offset moved, and the offsets (both non-decreasing)."""

    times: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    offsets: dict[tuple[str, int], list[int]] = field(default_factory=dict)

    def saw(self, at: float, positions: dict[tuple[str, int], int]) -> bool:
        """Records a poll; whether any position moved since the last one."""
        moved = False
        for tp, next_offset in positions.items():
            offsets = self.offsets.setdefault(tp, [])
            if not offsets or offsets[-1] != next_offset:
                offsets.append(next_offset)
                self.times.setdefault(tp, []).append(at)
                moved = True
        return moved

    def past(self, tp: tuple[str, int], offset: int) -> float | None:
        """When the poller first saw the projection past ``offset`` (None: never)."""
        offsets = self.offsets.get(tp, [])
        i = bisect.bisect_right(offsets, offset)
        return self.times[tp][i] if i < len(offsets) else None


@dataclass(frozen=True)
class Decided:
    """Where and when the decider wrote an item's ``ItemEnqueued``."""

    partition: int
    offset: int
    at_wall: float  # the record's timestamp, s


async def watch_positions(
    settings: Settings, base: str, token: str, run_id: str, rate: int, seconds: float
) -> tuple[Run, Timeline]:
    """POSTs at ``rate`` while polling the projection's positions; ``Run.visible`` is
    filled afterwards from the timeline (``seen_in``), once the events are read back."""
    run = Run()
    timeline = Timeline()
    headers = {"Authorization": f"Bearer {token}"}
    conn = await asyncpg.connect(
        settings.dsn,
        server_settings={"search_path": settings.db_schema, "application_name": "bench-poller"},
    )
    sending = True

    async def poll() -> None:
        deadline = float("inf")
        moved = time.perf_counter()
        while time.perf_counter() < deadline:
            if not sending and deadline == float("inf"):
                deadline = time.perf_counter() + DEADLINE_S
            rows = await conn.fetch(POSITIONS, PROJECTION)
            seen = time.perf_counter()
            if timeline.saw(seen, {(r["topic"], r["partition"]): r["next_offset"] for r in rows}):
                moved = seen
            elif not sending and seen - moved > QUIET_S:
                return  # the projection stopped moving: the pipeline has drained
            await asyncio.sleep(POLL_DB_S)

    poller = asyncio.create_task(poll())
    host, port = base.removeprefix("http://").rsplit(":", 1)
    try:
        # The pipeline or the API may fall far behind: a request not answered by the
        # deadline counts as unanswered, and the run still ends.
        async with LeanClient(host, int(port), headers) as client:

            async def one(n: int) -> None:
                await _post_lean(client, f"{run_id}-{n}", run, seconds + DEADLINE_S)

            tasks = await open_loop(rate, seconds, one, run)
            await asyncio.gather(*tasks)
        sending = False
        await poller
    finally:
        poller.cancel()
        await conn.close()
    return run, timeline


async def seen_in(
    settings: Settings, run: Run, timeline: Timeline, decided: dict[uuid.UUID, Decided]
) -> int:
    """Fills ``run.visible`` from the timeline; the number of items it counts visible
    whose row the read model does not hold (0, or the invariant is broken)."""
    for item, where in decided.items():
        at = timeline.past((settings.topics.events, where.partition), where.offset)
        if at is not None and item in run.accepted:
            run.visible[item] = at
    conn = await asyncpg.connect(settings.dsn, server_settings={"search_path": settings.db_schema})
    try:
        rows: int = await conn.fetchval(
            "SELECT count(*) FROM queue_items WHERE id = ANY($1::uuid[])", list(run.visible)
        )
    finally:
        await conn.close()
    return len(run.visible) - rows


async def decided_at(settings: Settings, items: set[uuid.UUID]) -> dict[uuid.UUID, Decided]:
    """Where and when the decider wrote each item's ``ItemEnqueued``."""
    consumer = AIOKafkaConsumer(
        settings.topics.events,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: dict[uuid.UUID, Decided] = {}
    try:
        idle_rounds = 0
        while len(found) < len(items) and idle_rounds < 10:
            fetched = await consumer.getmany(timeout_ms=500, max_records=10_000)
            idle_rounds = 0 if fetched else idle_rounds + 1
            for records in fetched.values():
                for record in records:
                    event = decode(record.value)
                    if event.type == ItemEnqueued.TYPE and event.aggregate_id in items:
                        at = record.timestamp / 1000
                        found[event.aggregate_id] = Decided(record.partition, record.offset, at)
    finally:
        await consumer.stop()
    return found


def split(run: Run, decided: dict[uuid.UUID, Decided]) -> dict[str, float | str]:
    """p50/p99 of 202 -> decided and decided -> visible, over the items seen in both."""
    to_decided, to_visible = [], []
    for item, wall in run.accepted_wall.items():
        if item in decided and item in run.visible:
            at = decided[item].at_wall
            to_decided.append((at - wall) * 1000)
            visible_wall = wall + (run.visible[item] - run.accepted[item])
            to_visible.append((visible_wall - at) * 1000)
    return {
        "202 -> decided p50_ms": percentile(to_decided, 50),
        "202 -> decided p99_ms": percentile(to_decided, 99),
        "decided -> visible p50_ms": percentile(to_visible, 50),
        "decided -> visible p99_ms": percentile(to_visible, 99),
    }


async def run(settings: Settings, workdir: Path) -> dict[str, float | str]:
    token = issue_token_from_settings(
        settings, org="bench", sub="bench-bot", scope="queue:write read", ttl=3600, kind="bot"
    )
    base = f"http://127.0.0.1:{settings.api_port}"
    # Its own worker data dir: Faust's RocksDB files of an earlier benchmark's worker
    # (other topics, same table names) would crash this worker's recovery.
    settings = Settings(
        **{**settings.model_dump(), "worker_data_dir": workdir / f"faust-{settings.topic_prefix}"}
    )
    children = [Child(name, settings, workdir) for name in ("api", "worker", "projector")]
    async with running(*children):
        await wait_http(f"{base}/readyz")
        # Warm-up: the worker's group join and the first fetches are not steady state.
        await watch_http(base, token, "warmup", rate=20, seconds=5)
        slow = await watch_http(base, token, "slow", SLOW_RATE_PER_S, SLOW_DURATION_S)
        fast, timeline = await watch_positions(
            settings, base, token, "fast", FAST_RATE_PER_S, FAST_DURATION_S
        )
        # A stage that died explains "invisible": say so rather than only print nan.
        exited = [c.command for c in children if c.proc and c.proc.returncode is not None]
    decided = await decided_at(settings, set(fast.accepted))
    rowless = await seen_in(settings, fast, timeline, decided)
    figures: dict[str, float | str] = {"exited during the run": ", ".join(exited) or "none"}
    fast_how = "projection positions polled every 5 ms"
    for label, result in (
        (f"{SLOW_RATE_PER_S}/s", slow.figures(SLOW_RATE_PER_S, "GET /v1/queue/{id} every 10 ms")),
        (f"{FAST_RATE_PER_S}/s", fast.figures(FAST_RATE_PER_S, fast_how)),
    ):
        figures.update({f"{label}: {name}": value for name, value in result.items()})
    label = f"{FAST_RATE_PER_S}/s"
    figures[f"{label}: counted visible, row missing"] = rowless
    figures.update({f"{label}: {name}": value for name, value in split(fast, decided).items()})
    return figures
