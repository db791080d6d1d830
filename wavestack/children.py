"""Runs several `wavestack` processes as one: signals go to all, one exiting stops all.

For commands that are several processes in production too (`wavestack worker` runs
the decider and the media app), so each keeps its own consumer group and a crash
shows up as a process exiting, not as a task dying quietly in a shared loop.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Sequence

STOP_GRACE_SECONDS = 30.0


def supervise(argvs: Sequence[Sequence[str]]) -> int:
    """Starts ``wavestack <argv>`` for each; returns the first non-zero exit status, else 0."""
    children = [subprocess.Popen([sys.executable, "-m", "wavestack.cli", *argv]) for argv in argvs]
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.2)
        if not stopping:
            stop(signal.SIGTERM, None)  # one died: the rest follow
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children:
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    codes = [child.returncode for child in children]
    return next((c for c in codes if c not in (0, -signal.SIGTERM)), 0)
