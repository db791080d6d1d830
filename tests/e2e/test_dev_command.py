"""`wavestack dev` as a user runs it: a banner with a working token, Ctrl-C stops all.

The banner's walk-through is followed literally: its commands are taken from the
output and run by bash (with this virtualenv's `python` first on PATH, as in a shell
where it is activated), and the signed post must reach the banner's receiver.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp

from tests.processes import Child, free_port
from wavestack.dev import CHILDREN
from wavestack.receiver import VERIFIED
from wavestack.settings import Settings

# The banner's indented commands; a line ending in a backslash continues.
WALK_TIMEOUT_S = 60.0


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


def banner_commands(output: str) -> list[str]:
    """The shell commands of the banner (the part after 'WaveStack is running')."""
    banner = output[output.index("WaveStack is running") :]
    commands: list[str] = []
    current = ""
    for line in banner.splitlines():
        if not current and not line.startswith("  "):
            continue
        current += line.strip() if not current else "\n" + line
        if not line.endswith("\\"):
            commands.append(current.strip())
            current = ""
    return [c for c in commands if c]


def shell_env() -> dict[str, str]:
    """A shell with this virtualenv activated: `python` is the one running the tests."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}


async def bash(script: str, log: Path | None = None) -> asyncio.subprocess.Process:
    out = log.open("ab") if log else asyncio.subprocess.PIPE
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", script, stdout=out, stderr=asyncio.subprocess.STDOUT, env=shell_env()
    )
    if log and not isinstance(out, int):
        out.close()
    return proc


async def follow_the_walk_through(output: str, tmp_path: Path) -> None:
    """Runs the banner's receiver and commands; the signed post must arrive and show."""
    commands = banner_commands(output)
    receiver_cmd = next(c for c in commands if c.startswith("python -m wavestack.receiver"))
    exports = [c for c in commands if c.startswith("export ")]
    shown = next(c for c in commands if c.startswith("curl -s") and "$ITEM" in c)
    assert [e.split("=")[0] for e in exports] == [
        "export TOKEN",
        "export CONNECTION",
        "export AT",
        "export ITEM",
    ]
    log = tmp_path / "receiver.log"
    receiver = await bash("exec " + receiver_cmd, log)
    try:
        await until(lambda: "receiving on" in log.read_text(), "the receiver to listen")
        script = "set -e\n" + "\n".join(exports) + '\necho "ITEM=$ITEM"\n'
        ran = await bash(script)
        out, _ = await ran.communicate()
        assert ran.returncode == 0, out.decode()
        item = re.search(r"ITEM=(\S+)", out.decode())
        assert item is not None and len(item.group(1)) == 36, out.decode()
        await until(
            lambda: (
                f"{VERIFIED} webhook-id=" in log.read_text()
                and f"item={item.group(1)}" in log.read_text()
            ),
            "the signed post to arrive",
        )
        # The item shows its post: the banner's last command, as given.
        show = "\n".join(exports[:1]) + f"\nexport ITEM={item.group(1)}\n" + shown
        shown_item: dict[str, object] = {}
        for _ in range(100):
            ran = await bash(show)
            answer, _ = await ran.communicate()
            shown_item = json.loads(answer)
            if shown_item.get("status") == "published":
                break
            await asyncio.sleep(0.2)
        assert shown_item.get("status") == "published", shown_item
        assert shown_item.get("post") is not None, shown_item
        assert "refused" not in log.read_text()
    finally:
        if receiver.returncode is None:
            receiver.terminate()
            await receiver.wait()


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WALK_TIMEOUT_S
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"waited {WALK_TIMEOUT_S:.0f} s for {what}")
        await asyncio.sleep(0.2)


async def test_dev_prints_a_working_walk_through_and_ctrl_c_stops_every_process(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    dev = Child("dev", settings.model_copy(update={"api_port": port}), tmp_path)
    # As `make dev` runs it: egress to private addresses left to dev's default.
    dev.env = {k: v for k, v in dev.env.items() if k != "WAVESTACK_EGRESS_ALLOW_PRIVATE"}
    await dev.start()
    try:
        await dev.wait_for_output("Ctrl-C stops everything", timeout=90)
        assert dev.proc is not None
        children = children_of(dev.proc.pid)
        assert len(children) == len(CHILDREN)  # api, decider, media, publisher, projector, …

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

        await follow_the_walk_through(dev.output(), tmp_path)

        dev.proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(dev.proc.wait(), 30) == 0
        assert [pid for pid in children if alive(pid)] == []
    finally:
        await dev.kill()
