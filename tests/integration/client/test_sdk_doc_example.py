"""docs/sdk.md's "write a bot in 30 lines" is run, as printed, against the real stack."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from tests.integration.client.stack import SdkStack

ROOT = Path(__file__).resolve().parents[3]
HEADING = "## Write a bot in 30 lines"


def bot_example() -> str:
    doc = (ROOT / "docs" / "sdk.md").read_text()
    section = doc.split(HEADING, 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None, "no python block under the heading"
    return found.group(1)


def test_the_example_is_at_most_30_lines_of_code() -> None:
    code = [line for line in bot_example().splitlines() if line.strip()]
    assert len(code) <= 30


async def run_bot(stack: SdkStack) -> tuple[int, str, str]:
    # A child process: the API under test runs in this event loop, so nothing may block it.
    env = {
        **os.environ,
        "WAVESTACK_URL": stack.base_url,
        "WAVESTACK_TOKEN": stack.token(org="org-doc", scope="queue:write read"),
        "PYTHONPATH": str(ROOT),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        bot_example(),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.slow  # two interpreter start-ups and a stack of its own
async def test_the_bot_example_runs_and_a_second_run_is_the_same_post(sdk_stack: SdkStack) -> None:
    code, out, err = await run_bot(sdk_stack)
    assert code == 0, err
    queued = re.search(r"^queued (\S+) applied$", out, re.MULTILINE)
    assert queued is not None, out
    assert "Daily stream" in out
    assert re.search(r"^refused \('body', 'title'\) ", out, re.MULTILINE), out

    code, again, err = await run_bot(sdk_stack)
    assert code == 0, err
    # Same day, same key: the same item, and the decider says it was a duplicate.
    assert f"queued {queued.group(1)} " in again
    async with sdk_stack.client(org="org-doc") as ws:
        items = await ws.items().collect()
    assert [str(i.id) for i in items] == [queued.group(1)]
