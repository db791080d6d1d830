"""Running the `wavestack` CLI as the operator does: a process with WAVESTACK_* settings."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas.dlq import dlq_headers
from wavestack.settings import Settings

CLI_TIMEOUT = 60.0


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float


def environment(settings: Settings, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAVESTACK_")}
    env.update(
        WAVESTACK_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        WAVESTACK_DATABASE_URL=settings.dsn,
        WAVESTACK_TOPIC_PREFIX=settings.topic_prefix,
        WAVESTACK_DB_SCHEMA=settings.db_schema,
        WAVESTACK_LOG_FORMAT=settings.log_format,
    )
    env.update(overrides)
    return env


async def wavestack(settings: Settings, *args: str, **env: str) -> Run:
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wavestack.cli",
        *args,
        env=environment(settings, **env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode(), time.monotonic() - started)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def put_letters(
    settings: Settings, letters: list[tuple[bytes | None, bytes, str, str]], **produce: Any
) -> None:
    """Dead letters as the consumers write them: (key, value, reason, 'topic:partition:offset')."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for key, value, reason, source in letters:
            topic, partition, offset = source.rsplit(":", 2)
            headers = dlq_headers(reason, topic, int(partition), int(offset), "projector")
            await producer.send_and_wait(
                settings.topics.dlq, value=value, key=key, headers=headers, partition=0, **produce
            )
    finally:
        await producer.stop()
