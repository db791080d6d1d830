"""CPU used by a process and its descendants over a benchmark window (Linux /proc)."""

from __future__ import annotations

import os
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(p for child in children for p in _tree(int(child)))]


def cpu_seconds(pid: int) -> float:
    """User + system time of ``pid`` and every process under it, now (nan: it exited)."""
    if not Path(f"/proc/{pid}").exists():
        return float("nan")
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        # utime, stime, and the same of children it has reaped (a worker that restarts
        # a child keeps that child's time in the sum).
        total += sum(int(v) for v in fields[11:15])
    return total / TICKS_PER_S


class CpuWindow:
    """Share of one core each named process tree used between start() and stop()."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._start: dict[str, float] = {}
        self._began = 0.0
        self._machine = 0.0

    def start(self, now: float) -> None:
        self._began = now
        self._start = {name: cpu_seconds(pid) for name, pid in self._pids.items()}
        self._machine = machine_busy_seconds()

    def stop(self, now: float) -> dict[str, float]:
        """Per cent of one core: 100 is a core busy all along (the machine has two)."""
        wall = now - self._began
        shares = {
            name: 100 * (cpu_seconds(pid) - self._start[name]) / wall
            for name, pid in self._pids.items()
        }
        shares["machine"] = 100 * (machine_busy_seconds() - self._machine) / wall
        return shares


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot (/proc/stat), for the whole machine."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / TICKS_PER_S
