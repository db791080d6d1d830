"""Shared pieces of the benchmarks: isolated settings, child processes, statistics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from tests.isolation import isolated_read_model, own_settings
from tests.processes import Child, free_port
from wavestack.settings import Settings


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def bench_settings(base: Settings, workdir: Path) -> Settings:
    return own_settings(
        base,
        workdir,
        "bench",
        partitions=6,
        api_port=free_port(),
        # The benchmark measures throughput, not the per-organization limiter.
        rate_limit_per_second=1e9,
        rate_limit_burst=1_000_000_000,
        log_level="warning",
    )


@asynccontextmanager
async def prepared(settings: Settings) -> AsyncIterator[Settings]:
    """Topics and schema for one benchmark run, both removed afterwards."""
    async with isolated_read_model(settings):
        # The isolation deletes the prefix's topics afterwards, as for the tests.
        yield settings


async def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@asynccontextmanager
async def running(*children: Child) -> AsyncIterator[None]:
    for child in children:
        await child.start()
    try:
        yield
    finally:
        for child in children:
            await child.stop()
