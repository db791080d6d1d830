"""`make bench`: every figure next to the raw limit measured in the same run.

The machine is shared and noisy, so absolute numbers wander; the ratios against a
baseline measured minutes apart on the same machine are what we track.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.bench import (
    clipping,
    decider,
    discord,
    harness,
    ingest,
    jwt_cost,
    latency,
    pipeline,
    publishing,
    rebuild,
    recovery,
    upload,
    webhooks,
)
from wavestack import runtime
from wavestack.logging import configure_logging
from wavestack.settings import Settings

# Generated media kept between runs (the 10-minute 1080p source takes minutes).
CACHE = Path(".stack/bench-media").resolve()

TARGETS = {
    "ingest per API process vs bare aiohttp, stack running": ">= 0.5",
    "e2e latency p99 at 1,000 commands/s": "<= 250 ms",
    "e2e latency at 100/s": "p50 <= 150 ms, p99 <= 1000 ms",
    "clipper overhead vs bare ffmpeg": "<= max(10%, 100 ms)",
    "decider vs raw consume->produce": ">= 0.3",
    "pipeline sustained": ">= 2,000 commands/s and >= 0.8 x ingest",
    "decider SIGKILL -> deciding again": "<= 10 s",
    "rebuild ratio vs raw aiokafka + COPY": ">= 0.5",
    "upload ratio vs bare aiohttp": ">= 0.5",
    "publish throughput vs bare aiohttp to the webhook fake": ">= 0.3",
    "scheduler lateness, 1,000 items due at one second": "p99 <= 2 s",
    "webhook deliveries vs bare aiohttp": ">= 0.3",
    "webhook event -> delivered at 100/s": "p99 <= 1 s",
    "Discord interaction -> deferred answer, stack loaded": "p99 <= 250 ms (deadline 3 s)",
}


def show(title: str, figures: dict[str, Any]) -> None:
    print(f"\n== {title}")
    for name, value in figures.items():
        text = f"{value:,.2f}" if isinstance(value, float) else str(value)
        print(f"  {name:<28} {text}")


async def main(only: set[str]) -> int:
    configure_logging("console", "warning")
    base = Settings()
    with tempfile.TemporaryDirectory(prefix="wavestack-bench-") as tmp:
        workdir = Path(tmp)

        def fresh() -> Any:
            # Each benchmark gets its own topics and schema: ingest leaves ~50k commands
            # behind, which the latency run must not have to wade through.
            return harness.prepared(harness.bench_settings(base, workdir))

        if not only or "jwt" in only:
            async with fresh() as settings:
                show("JWT verification (parsed key cached)", await jwt_cost.run(settings))
        if not only or "ingest" in only:
            async with fresh() as settings:
                show(
                    "Command ingest, POST /v1/queue (wrk, 32 connections): alone, "
                    "with worker + projector, 2 API processes",
                    await ingest.run(settings, workdir),
                )
        if not only or "decider" in only:
            async with fresh() as settings:
                show(
                    f"Decider alone on a backlog of {decider.COMMANDS:,} commands",
                    await decider.run(settings, workdir),
                )
        if not only or "pipeline" in only:
            async with fresh() as settings:
                show(
                    f"Pipeline, wrk for {pipeline.LOAD_S} s: accepted -> visible in the read model",
                    await pipeline.run(settings, workdir),
                )
        if not only or "recovery" in only:
            show(
                "Decider recovery: SIGKILL, restart at once (static membership), by aggregates",
                await recovery.run(fresh, workdir),
            )
        if not only or "latency" in only:
            async with fresh() as settings:
                show(
                    "End to end, 202 -> visible in the read model, API + worker + projector "
                    f"({latency.SLOW_RATE_PER_S}/s and {latency.FAST_RATE_PER_S}/s)",
                    await latency.run(settings, workdir),
                )
        if not only or "clip" in only:
            async with fresh() as settings:
                show(
                    "Clipper vs bare ffmpeg, 10-minute 1080p source (median of 3)",
                    await clipping.run(settings, CACHE),
                )
        if not only or "rebuild" in only:
            show(
                f"Rebuild of {rebuild.REBUILD_EVENTS:,} events vs raw aiokafka + COPY;"
                f" projector on a {rebuild.BACKLOG_EVENTS:,}-event backlog",
                await rebuild.run(fresh),
            )
        if not only or "upload" in only:
            async with fresh() as settings:
                show(
                    f"Upload, {upload.TOTAL_MIB} MiB in 8 MiB tus PATCHes vs bare aiohttp",
                    await upload.run(settings, workdir),
                )
        if not only or "publishing" in only:
            show(
                f"Publishing, {publishing.ITEMS:,} items due at one second -> webhook fake,"
                " vs bare aiohttp posting the same signed payloads",
                await publishing.run(base, workdir),
            )
        if not only or "webhooks" in only:
            async with fresh() as settings:
                show(
                    f"Outbound webhooks: {webhooks.BACKLOG:,} events -> local receiver vs bare "
                    f"aiohttp ({webhooks.LANES} in flight); event -> delivered at "
                    f"{webhooks.RATE}/s",
                    await webhooks.run(settings),
                )
        if not only or "discord" in only:
            async with fresh() as settings:
                show(
                    f"Discord interactions at {discord.RATE}/s -> deferred answer (type 5), "
                    f"API + worker + projector + integrations; quiet, with /v1/queue at "
                    f"{discord.LOAD_RATE}/s, and a bare aiohttp verify-and-answer",
                    await discord.run(settings, workdir),
                )
    print("\nTargets: " + "; ".join(f"{k} {v}" for k, v in TARGETS.items()))
    return 0


if __name__ == "__main__":
    # The limits (raw aiokafka loops, bare clients) on the loop and collector the
    # product runs with.
    runtime.prepare()
    sys.exit(asyncio.run(main(set(sys.argv[1:]))))
