"""Runs several processes under one parent: `wavestack api --processes N` (N copies),
`wavestack worker` (the decider and the media app).

The parent only supervises: it starts the children, forwards SIGTERM/SIGINT to them
as one SIGTERM each, and waits for them. A child that exits on its own (crash,
port taken) stops the others and makes the parent exit non-zero, so whatever runs
the parent (systemd, Kubernetes, `make dev`) sees one failed unit and restarts it
whole, instead of a half-sized service that looks healthy.

Children are spawned (fresh interpreters: nothing of the parent's state is shared
by accident), put in their own process group (a terminal's Ctrl-C reaches only the
parent, which stops them once, in order), and asked by the kernel to die with the
parent (PR_SET_PDEATHSIG), so even a SIGKILLed parent leaves no orphan.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import structlog

log = structlog.get_logger(__name__)

PR_SET_PDEATHSIG = 1
STOP_TIMEOUT_S = 20.0
# Exit status of a parent whose child died unasked.
CHILD_FAILED = 1


def _die_with_parent(parent: int) -> None:
    libc_name = ctypes.util.find_library("c")
    if libc_name is not None:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(CHILD_FAILED)


def _child(parent: int, target: Callable[..., None], args: tuple[Any, ...]) -> None:
    os.setpgid(0, 0)
    _die_with_parent(parent)
    target(*args)


@dataclass(frozen=True)
class ChildSpec:
    """One child: its name in the logs and ``target(*args)``, a module-level function."""

    name: str
    target: Callable[..., None]
    args: tuple[Any, ...]


class Supervisor:
    def __init__(self, specs: Sequence[ChildSpec], *, stop_timeout: float = STOP_TIMEOUT_S) -> None:
        self._specs = tuple(specs)
        self._stop_timeout = stop_timeout
        self._children: list[BaseProcess] = []
        self._stopping = False

    def run(self) -> int:
        """Starts the children and returns the exit status once all have stopped."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            context = multiprocessing.get_context("spawn")
            for spec in self._specs:
                if self._stopping:
                    break
                child = context.Process(
                    target=_child, args=(os.getpid(), spec.target, spec.args), name=spec.name
                )
                child.start()
                self._children.append(child)
                log.info("child started", child=child.name, pid=child.pid)
            return self._wait()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _wait(self) -> int:
        while not self._stopping:
            sentinels = [c.sentinel for c in self._children]
            # Short timeout: the signal handler only sets a flag, which is read here.
            for ready in multiprocessing.connection.wait(sentinels, timeout=0.2):
                dead = next(c for c in self._children if c.sentinel == ready)
                if self._stopping:
                    break
                log.error(
                    "child exited unexpectedly; stopping the others",
                    child=dead.name,
                    pid=dead.pid,
                    exitcode=dead.exitcode,
                )
                return CHILD_FAILED
        return 0

    def _stop_all(self) -> None:
        alive = [c for c in self._children if c.is_alive()]
        for child in alive:
            if child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + self._stop_timeout
        for child in alive:
            child.join(max(0.0, deadline - time.monotonic()))
            if child.is_alive():
                log.warning("child did not stop in time; killing it", child=child.name)
                child.kill()
                child.join()
        for child in self._children:
            log.info("child stopped", child=child.name, exitcode=child.exitcode)


def supervise(count: int, target: Callable[..., None], args: tuple[Any, ...], *, name: str) -> int:
    """Runs ``target(*args)`` in ``count`` child processes until SIGTERM/SIGINT."""
    specs = [ChildSpec(f"{name}-{n + 1}", target, args) for n in range(count)]
    return Supervisor(specs).run()
