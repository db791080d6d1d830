"""`wavestack dev` as a user runs it: a banner with a working token, Ctrl-C stops all."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

import aiohttp

from tests.bench.harness import free_port
from tests.processes import Child
from wavestack.settings import Settings


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose (its parent reaps it).
    return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


async def test_dev_prints_a_working_token_and_ctrl_c_stops_every_process(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    dev = Child("dev", settings.model_copy(update={"api_port": port}), tmp_path)
    await dev.start()
    try:
        await dev.wait_for_output("Ctrl-C stops everything", timeout=90)
        assert dev.proc is not None
        children = children_of(dev.proc.pid)
        assert len(children) == 5  # api, decider, media, publisher, projector

        token = re.search(r"export TOKEN=(\S+)", dev.output())
        assert token is not None
        headers = {"Authorization": f"Bearer {token.group(1)}", "Idempotency-Key": "dev-test"}
        async with aiohttp.ClientSession(headers=headers) as http:
            base = f"http://127.0.0.1:{port}"
            async with http.post(
                f"{base}/v1/queue", json={"platform": "youtube", "title": "My first post"}
            ) as resp:
                assert resp.status == 202
                item = await resp.json()
            for _ in range(100):
                async with http.get(f"{base}/v1/queue/{item['id']}") as resp:
                    if resp.status == 200:
                        break
                await asyncio.sleep(0.1)
            assert resp.status == 200

        dev.proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(dev.proc.wait(), 30) == 0
        assert [pid for pid in children if alive(pid)] == []
    finally:
        await dev.kill()
