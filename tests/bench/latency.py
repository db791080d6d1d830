"""End-to-end latency: POST accepted -> item visible through GET, at a steady rate."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from api.auth.cli import issue_token_from_settings
from tests.bench.harness import percentile, running, wait_http
from tests.processes import Child
from wavestack.settings import Settings

RATE_PER_S = 100
DURATION_S = 20
POLL_S = 0.01


async def _one(
    session: aiohttp.ClientSession, base: str, n: int, run_id: str, latencies: list[float]
) -> None:
    async with session.post(
        f"{base}/v1/queue",
        json={"platform": "youtube", "title": f"latency {n}"},
        headers={"Idempotency-Key": f"{run_id}-{n}"},
    ) as resp:
        if resp.status != 202:
            raise RuntimeError(f"POST answered {resp.status}: {await resp.text()}")
        item_id = (await resp.json())["id"]
    accepted = time.perf_counter()
    while True:
        async with session.get(f"{base}/v1/queue/{item_id}") as resp:
            await resp.read()
            if resp.status == 200:
                latencies.append(time.perf_counter() - accepted)
                return
        await asyncio.sleep(POLL_S)


async def steady(base: str, token: str, run_id: str, rate: int, seconds: int) -> list[float]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        tasks = []
        start = time.perf_counter()
        for n in range(rate * seconds):
            # Open-loop schedule: request n leaves at start + n/rate whatever came before.
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_one(session, base, n, run_id, latencies)))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
    return latencies


async def run(settings: Settings, workdir: Path) -> dict[str, float]:
    token = issue_token_from_settings(
        settings, org="bench", sub="bench-bot", scope="queue:write read", ttl=3600, kind="bot"
    )
    base = f"http://127.0.0.1:{settings.api_port}"
    children = [Child(name, settings, workdir) for name in ("api", "worker", "projector")]
    async with running(*children):
        await wait_http(f"{base}/readyz")
        # Warm-up: the worker's group join and the first fetches are not steady state.
        await steady(base, token, "warmup", rate=20, seconds=5)
        latencies = await steady(base, token, "steady", RATE_PER_S, DURATION_S)
    ms = [v * 1000 for v in latencies]
    return {
        "rate_per_s": RATE_PER_S,
        "requests": len(ms),
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms),
    }
