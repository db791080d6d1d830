"""Runs WaveStack processes (`wavestack worker`, `projector`, `api`) for tests.

Real child processes, configured only through WAVESTACK_* variables like in
production, so tests can SIGKILL them mid-stream.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from wavestack.settings import Settings


def free_port() -> int:
    """A local port free a moment ago (bound, then released) for a process to listen on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that reproduces ``settings`` in a child process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAVESTACK_")}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        env[f"WAVESTACK_{name.upper()}"] = str(raw)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Child:
    """One `wavestack <command>` process whose output goes to a log file."""

    def __init__(
        self,
        command: str,
        settings: Settings,
        log_dir: Path,
        *,
        args: Sequence[str] = (),
        name: str | None = None,
        **extra_env: str,
    ) -> None:
        """``args`` follow the command (e.g. ``--role decider``); ``name`` names the log."""
        self.command = command
        self.args = tuple(args)
        self.env: Mapping[str, str] = {**settings_env(settings), **extra_env}
        self.log_path = log_dir / f"{name or command}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wavestack.cli",
            self.command,
            *self.args,
            stdout=log,
            stderr=log,
            env=dict(self.env),
        )
        log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def wait_for_output(self, text: str, timeout: float = 60.0) -> None:
        """Waits until the child has logged ``text`` (or fails, showing its log)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while text not in self.output():
            if self.proc and self.proc.returncode is not None:
                raise AssertionError(f"{self.command} exited early:\n{self.output()[-3000:]}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"{self.command} never logged {text!r}:\n{self.output()[-3000:]}"
                )
            await asyncio.sleep(0.2)

    async def kill(self) -> None:
        """SIGKILL: no clean-up, no final commit — a crash."""
        if self.proc and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    async def stop(self, timeout: float = 20.0) -> int | None:
        if not self.proc or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        return self.proc.returncode
