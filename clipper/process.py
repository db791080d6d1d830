"""Run ffmpeg/ffprobe as asyncio subprocesses that never outlive the job that started them."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from clipper.errors import ToolMissingError

# SIGTERM lets ffmpeg close its files; after this it gets SIGKILL.
TERMINATE_GRACE_SECONDS = 1.0
STDERR_TAIL_BYTES = 8192
MAX_STDOUT_BYTES = 32 * 1024 * 1024

T = TypeVar("T")
LineHandler = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: bytes
    stderr: str


@functools.cache
def parent_death_prefix() -> tuple[str, ...]:
    """Make the child die with us: if the worker is SIGKILLed, so is its ffmpeg.

    ``setpriv --pdeathsig`` (util-linux, always on Debian) sets PR_SET_PDEATHSIG and
    then execs, so the pid we hold is ffmpeg's own. Without it a killed worker would
    leave ffmpeg running to the end of its job, writing a temp file nobody renames.
    """
    setpriv = shutil.which("setpriv")
    return (setpriv, "--pdeathsig", "KILL", "--") if setpriv else ()


async def run(
    argv: Sequence[str], *, on_line: LineHandler | None = None, niceness: int = 0
) -> Completed:
    """Run ``argv`` (never through a shell) and wait for it.

    ``niceness`` > 0 runs it at a lower CPU priority: work that runs beside a cut and
    should not slow it down.

    With ``on_line`` each stdout line goes to the handler as it arrives and stdout is
    not kept. Cancelling the caller (task.cancel(), asyncio.timeout) stops the process:
    SIGTERM, then SIGKILL, and the process is always reaped before the cancellation
    propagates.
    """
    # Checked here: behind setpriv a missing tool would only show as exit status 127.
    program = shutil.which(argv[0])
    if program is None:
        raise ToolMissingError(f"{argv[0]} is not installed or not on PATH")
    try:
        proc = await asyncio.create_subprocess_exec(
            *parent_death_prefix(),
            program,
            *argv[1:],
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Our own session: a Ctrl-C on the terminal reaches the worker, which then
            # stops ffmpeg itself, instead of ffmpeg finishing a half file on its own.
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise ToolMissingError(f"{argv[0]} is not installed or not on PATH") from exc
    if niceness > 0:
        with contextlib.suppress(ProcessLookupError):
            os.setpriority(os.PRIO_PROCESS, proc.pid, niceness)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        stdout, stderr = await asyncio.gather(
            _read_stdout(proc.stdout, on_line), _read_tail(proc.stderr)
        )
        returncode = await proc.wait()
    except BaseException:
        await _stop_uninterrupted(proc)
        raise
    return Completed(returncode, stdout, stderr.decode("utf-8", "replace"))


async def together(*jobs: Awaitable[Any]) -> list[Any]:
    """Await all ``jobs`` at once; if one fails, cancel the rest and wait for them to end."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def nothing() -> None:
    """A job that does nothing, for a slot of ``together`` that has no work."""


async def _stop_uninterrupted(proc: asyncio.subprocess.Process) -> None:
    """Stop and reap ``proc`` even if the caller is cancelled again meanwhile.

    A repeated cancellation is remembered and raised once the process is gone, so the
    caller never returns while its ffmpeg still runs (stop() takes a bounded time).
    """
    stopping = asyncio.ensure_future(stop(proc))
    interrupted = False
    while not stopping.done():
        try:
            await asyncio.shield(stopping)
        except asyncio.CancelledError:
            interrupted = True
    stopping.result()
    if interrupted:
        raise asyncio.CancelledError


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), TERMINATE_GRACE_SECONDS)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


async def _read_stdout(stream: asyncio.StreamReader, on_line: LineHandler | None) -> bytes:
    if on_line is not None:
        async for raw in stream:
            await on_line(raw.decode("utf-8", "replace").strip())
        return b""
    chunks: list[bytes] = []
    size = 0
    while chunk := await stream.read(65536):
        size += len(chunk)
        if size > MAX_STDOUT_BYTES:
            raise ValueError(f"more than {MAX_STDOUT_BYTES} bytes on stdout")
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_tail(stream: asyncio.StreamReader) -> bytes:
    tail = b""
    while chunk := await stream.read(65536):
        tail = (tail + chunk)[-STDERR_TAIL_BYTES:]
    return tail


async def ready(value: T) -> T:
    """A job whose result is already known, for a slot of ``together``."""
    return value
