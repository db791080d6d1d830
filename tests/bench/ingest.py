"""Command ingest: POST /v1/queue, alone and with the stack running, against its ceilings.

Three ways the API runs, each in the same run as its ceilings (a bare aiohttp handler
with as many processes, a raw aiokafka producer loop):

- `wavestack api` alone (nothing consumes what it writes);
- `wavestack api` with `wavestack worker` and `wavestack projector` running, as users
  run it: they decide and project what the API writes, on the same cores;
- `wavestack api --processes 2`, with the worker and the projector.

Each with its own topics and schema, so no run wades through another's backlog. The
CPU each process used during the measured window is printed too: on a shared 2-core
machine, that is where the throughput of the API goes.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
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
from tests.bench import harness
from tests.bench.cpu import CpuWindow
from tests.bench.harness import running, wait_http
from tests.processes import Child, free_port, settings_env
from wavestack.settings import Settings

HERE = Path(__file__).parent
WRK_DURATION_S = 10
WARMUP_S = 3
WRK_CONNECTIONS = 32
Figures = dict[str, float]


@dataclass
class WrkResult:
    requests_per_s: float
    non_2xx: int
    p50_ms: float
    p99_ms: float


def ensure_wrk() -> None:
    """wrk from Debian's packages, installed like stack.sh installs ffmpeg."""
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        raise RuntimeError("wrk is missing; install it with: sudo apt-get install -y wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL, env=env
    )


async def wrk(url: str, token: str, run_id: str, seconds: int = WRK_DURATION_S) -> WrkResult:
    proc = await asyncio.create_subprocess_exec(
        "wrk",
        "-t1",
        f"-c{WRK_CONNECTIONS}",
        f"-d{seconds}s",
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


def bench_token(settings: Settings) -> str:
    return issue_token_from_settings(
        settings, org="bench", sub="bench-bot", scope="queue:write read", ttl=3600, kind="bot"
    )


@dataclass
class Ceiling:
    requests_per_s: float
    cpu_percent: float  # of one core, the bare server's processes together

    @property
    def per_cpu_second(self) -> float:
        return self.requests_per_s / (self.cpu_percent / 100)


async def bare_rate(settings: Settings, processes: int) -> Ceiling:
    port = free_port()
    bare = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "tests.bench.bare_server", str(port), str(processes)),
        env=settings_env(settings),
    )
    try:
        await wait_http(f"http://127.0.0.1:{port}/")
        url = f"http://127.0.0.1:{port}"
        await wrk(url, bench_token(settings), "bare-warm", WARMUP_S)
        window = CpuWindow({"bare": bare.pid})
        window.start(time.monotonic())
        result = await wrk(url, bench_token(settings), "bare")
        return Ceiling(result.requests_per_s, window.stop(time.monotonic())["bare"])
    finally:
        bare.terminate()
        await bare.wait()


async def api_run(settings: Settings, workdir: Path, *, processes: int, stack: bool) -> Figures:
    """wrk against the API, with or without the worker and projector beside it."""
    # A worker data dir of its own: Faust's RocksDB files remember changelog offsets by
    # table and partition, so a worker reusing another run's would crash on recovery.
    settings = Settings(
        **{
            **settings.model_dump(),
            "api_processes": processes,
            "worker_data_dir": workdir / f"faust-{settings.topic_prefix}",
        }
    )
    names = ["api", "worker", "projector"] if stack else ["api"]
    children = [Child(name, settings, workdir) for name in names]
    base = f"http://127.0.0.1:{settings.api_port}"
    token = bench_token(settings)
    async with running(*children):
        # Ready means both Kafka and PostgreSQL answer; the worker joins its group meanwhile.
        await wait_http(f"{base}/readyz")
        await wrk(base, token, f"warm-{processes}-{stack}", WARMUP_S)
        pids = {child.command: child.proc.pid for child in children if child.proc}
        window = CpuWindow(pids)
        window.start(time.monotonic())
        result = await wrk(base, token, f"run-{processes}-{stack}")
        cpu = window.stop(time.monotonic())
        exited = [c for c in children if c.proc and c.proc.returncode is not None]
    figures: Figures = {
        "rps": result.requests_per_s,
        "non_2xx": result.non_2xx,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
    }
    figures.update({f"cpu_{name}_%": share for name, share in cpu.items()})
    for child in exited:  # its CPU share is meaningless then, and so may be the throughput
        raise RuntimeError(f"{child.command} exited during the run:\n{child.output()[-3000:]}")
    return figures


async def run(settings: Settings, workdir: Path) -> Figures:
    ensure_wrk()
    bare = {1: await bare_rate(settings, 1), 2: await bare_rate(settings, 2)}
    raw_rate = await raw_producer_rate(settings, sample_command())
    figures: Figures = {}
    for n, ceiling in bare.items():
        figures[f"bare N={n}: rps"] = ceiling.requests_per_s
        figures[f"bare N={n}: cpu_%"] = ceiling.cpu_percent
    figures["raw_kafka_msgs_per_s"] = raw_rate
    runs = {"alone N=1": (1, False), "stack N=1": (1, True), "stack N=2": (2, True)}
    for label, (processes, stack) in runs.items():
        # Own topics and schema: the previous run left a backlog for the worker.
        async with harness.prepared(harness.bench_settings(settings, workdir)) as fresh:
            result = await api_run(fresh, workdir, processes=processes, stack=stack)
        figures.update({f"{label}: {name}": value for name, value in result.items()})
        # Throughput per process against one bare process: what the target is about.
        # On a shared machine the cores the API gets vary, so the same ratio per CPU
        # second (requests per second of the API's own CPU time) is printed as well.
        per_process = result["rps"] / processes
        figures[f"{label}: per_process_vs_bare"] = per_process / bare[1].requests_per_s
        per_cpu = result["rps"] / (result["cpu_api_%"] / 100)
        figures[f"{label}: per_cpu_s_vs_bare"] = per_cpu / bare[1].per_cpu_second
    figures["alone N=1: vs_raw_kafka"] = figures["alone N=1: rps"] / raw_rate
    return figures
