"""Command ingest: POST /v1/queue against a bare aiohttp handler and a raw aiokafka loop."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer

from api.auth.cli import issue_token_from_settings
from schemas.codec import encode, wrap
from schemas.commands import EnqueueItem
from schemas.envelope import Actor
from schemas.ids import aggregate_id_for, command_id_for
from tests.bench.harness import free_port, running, wait_http
from tests.processes import Child, settings_env
from wavestack.settings import Settings

HERE = Path(__file__).parent
WRK_DURATION_S = 10
WRK_CONNECTIONS = 32


@dataclass
class WrkResult:
    requests_per_s: float
    non_2xx: int
    p50_ms: float
    p99_ms: float


async def wrk(url: str, token: str, run_id: str) -> WrkResult:
    proc = await asyncio.create_subprocess_exec(
        "wrk",
        "-t1",
        f"-c{WRK_CONNECTIONS}",
        f"-d{WRK_DURATION_S}s",
        "-s",
        str(HERE / "post_queue.lua"),
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "TOKEN": token, "RUN_ID": run_id},
    )
    out, _ = await proc.communicate()
    text = out.decode()
    match = re.search(
        r"RESULT requests=(\d+) duration_us=(\d+) non2xx=(\d+) p50_us=(\d+) p99_us=(\d+)", text
    )
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{text}")
    requests, duration_us, non2xx, p50, p99 = (int(g) for g in match.groups())
    return WrkResult(requests / (duration_us / 1e6), non2xx, p50 / 1000, p99 / 1000)


async def raw_producer_rate(settings: Settings, payload: bytes, count: int = 20000) -> float:
    """acks=all, idempotent, the same payload size, up to 32 sends in flight like wrk."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        window = asyncio.Semaphore(WRK_CONNECTIONS)

        async def one(i: int) -> None:
            async with window:
                await producer.send_and_wait(
                    settings.topics.commands, payload, key=f"raw-{i}".encode()
                )

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        return count / (time.perf_counter() - start)
    finally:
        await producer.stop()


def sample_command() -> bytes:
    """The bytes the API produces for one wrk request: a real EnqueueItem envelope."""
    command_id = command_id_for("bench", "raw-sample")
    return encode(
        wrap(
            EnqueueItem(platform="youtube", title="Benchmark post 1", description="load test"),
            id=command_id,
            org_id="bench",
            aggregate_id=aggregate_id_for(command_id),
            occurred_at=datetime.now(UTC),
            command_id=command_id,
            correlation_id=command_id,
            causation_id=command_id,
            actor=Actor(sub="bench-bot", kind="bot"),
        )
    )


async def run(settings: Settings, workdir: Path) -> dict[str, float]:
    token = issue_token_from_settings(
        settings, org="bench", sub="bench-bot", scope="queue:write read", ttl=3600, kind="bot"
    )
    api = Child("api", settings, workdir)
    bare_port = free_port()
    bare = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bench.bare_server",
        str(bare_port),
        env=settings_env(settings),
    )
    try:
        async with running(api):
            await wait_http(f"http://127.0.0.1:{settings.api_port}/healthz")
            await wait_http(f"http://127.0.0.1:{bare_port}/")
            # Warm up both (JIT-free Python still has caches, connections, metadata).
            await wrk(f"http://127.0.0.1:{settings.api_port}", token, "warm")
            api_result = await wrk(f"http://127.0.0.1:{settings.api_port}", token, "api")
            bare_result = await wrk(f"http://127.0.0.1:{bare_port}", token, "bare")
    finally:
        bare.terminate()
        await bare.wait()
    raw_rate = await raw_producer_rate(settings, sample_command())
    return {
        "api_rps": api_result.requests_per_s,
        "api_non_2xx": api_result.non_2xx,
        "api_p50_ms": api_result.p50_ms,
        "api_p99_ms": api_result.p99_ms,
        "bare_rps": bare_result.requests_per_s,
        "raw_kafka_msgs_per_s": raw_rate,
        "ratio_vs_bare": api_result.requests_per_s / bare_result.requests_per_s,
        "ratio_vs_raw_kafka": api_result.requests_per_s / raw_rate,
    }
