"""The whole pipeline under full ingest: accepted by the API -> visible in the read model.

API, decider, media app and projector run as users run them (separate processes);
wrk posts EnqueueItem as fast as the API takes it. The figure is the sustained
rate from the first request to the last item being visible, next to the API's
ingest rate in the same run: when the pipeline keeps up, the two are equal.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg

from projections.db import quote_ident
from tests.bench.cpu import CpuWindow
from tests.bench.harness import running, wait_http
from tests.bench.ingest import bench_token, ensure_wrk, wrk
from tests.processes import Child
from wavestack.settings import Settings

LOAD_S = 10
SAMPLE_S = 0.25
DRAIN_TIMEOUT_S = 300.0


def kafka_pid() -> int:
    """The local broker's pid (0 when the broker is someone else's)."""
    pid_file = Path(".stack/kafka/pid")
    try:
        return int(pid_file.read_text())
    except (OSError, ValueError):
        return 0


async def visible(conn: asyncpg.Connection, schema: str) -> int:
    count = await conn.fetchval(f"SELECT count(*) FROM {quote_ident(schema)}.queue_items")
    return int(count or 0)


async def run(settings: Settings, workdir: Path) -> dict[str, float]:
    ensure_wrk()
    children = [
        Child("api", settings, workdir),
        Child("worker", settings, workdir, args=("--role", "decider"), name="decider"),
        Child("worker", settings, workdir, args=("--role", "media"), name="media"),
        Child("projector", settings, workdir),
    ]
    base = f"http://127.0.0.1:{settings.api_port}"
    token = bench_token(settings)
    conn = await asyncpg.connect(settings.dsn)
    try:
        async with running(*children):
            await wait_http(f"{base}/readyz")
            for child in children[1:3]:
                await child.wait_for_output("Worker ready", timeout=120)
            pids = {child.log_path.stem: child.proc.pid for child in children if child.proc}
            pids["kafka"] = kafka_pid()
            window = CpuWindow({name: pid for name, pid in pids.items() if pid})
            start = time.perf_counter()
            window.start(time.monotonic())
            result = await wrk(base, token, "pipeline", LOAD_S)
            cpu = window.stop(time.monotonic())
            load_ended = time.perf_counter()
            accepted = round(result.requests_per_s * (load_ended - start))
            at_end = await visible(conn, settings.db_schema)
            # The 2xx answers are what must arrive; wait until the read model has them.
            target = at_end
            deadline = load_ended + DRAIN_TIMEOUT_S
            previous, steady = -1, 0
            while time.perf_counter() < deadline:
                now = await visible(conn, settings.db_schema)
                steady = steady + 1 if now == previous else 0
                previous, target = now, now
                if steady >= 8:  # nothing new for 2 s: everything accepted is in
                    break
                await asyncio.sleep(SAMPLE_S)
            drained = time.perf_counter() - SAMPLE_S * steady
    finally:
        await conn.close()
    sustained = target / (drained - start)
    ingest = target / (load_ended - start)
    figures = {
        "accepted_2xx": float(target),
        "wrk_estimate": float(accepted),
        "api_ingest_per_s": ingest,
        "visible_at_load_end": float(at_end),
        "backlog_at_load_end": float(target - at_end),
        "drained_after_load_s": drained - load_ended,
        "pipeline_sustained_per_s": sustained,
        "pipeline_vs_ingest": sustained / ingest,
    }
    # Where the two cores went while wrk ran (100 = one core; PostgreSQL not counted).
    figures.update({f"cpu_{name}_%": share for name, share in cpu.items()})
    return figures
