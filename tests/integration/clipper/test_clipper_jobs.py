"""Running jobs: limits stop runaways, cancellation kills ffmpeg, progress only grows."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from clipper import (
    ClipRunner,
    ClipSpec,
    ClipTimeoutError,
    LimitExceededError,
    cleanup_stale_temp_files,
    process,
)
from tests.media import MediaLibrary

# Re-encoding all of the 240 s long source takes several seconds even on a fast machine.
RUNAWAY = ClipSpec(0.0, 230.0, "webm", "accurate")


def clip_files(root: Path) -> list[Path]:
    clips = root / "clips"
    return [p for p in clips.rglob("*") if p.is_file()] if clips.exists() else []


async def test_a_job_over_the_time_limit_is_stopped_and_leaves_nothing_behind(
    runner_factory: Callable[..., ClipRunner],
    library: MediaLibrary,
    root: Path,
    ffmpeg_pids: Callable[[], list[int]],
    dead: Callable[..., bool],
) -> None:
    library.put("long.mp4", root)
    runner = runner_factory(timeout_seconds=1.5)
    seen: list[int] = []

    async def progress(fraction: float) -> None:
        seen.extend(ffmpeg_pids())

    started = time.monotonic()
    with pytest.raises(ClipTimeoutError, match=r"longer than the limit of 1\.5 s") as stopped:
        await runner.clip("long.mp4", RUNAWAY, progress=progress)

    assert time.monotonic() - started < 5
    assert stopped.value.code == "timeout"
    assert seen, "ffmpeg was running when the limit struck"
    assert all(dead(pid) for pid in seen)
    assert ffmpeg_pids() == []
    assert clip_files(root) == []


async def test_a_clip_over_the_size_limit_is_refused_and_leaves_nothing_behind(
    runner_factory: Callable[..., ClipRunner], library: MediaLibrary, root: Path
) -> None:
    library.put("video.mp4", root)
    runner = runner_factory(max_output_bytes=50_000)

    with pytest.raises(LimitExceededError, match="larger than the limit of 50000 bytes"):
        await runner.clip("video.mp4", ClipSpec(0.0, 10.0, "mp4", "accurate"))

    assert clip_files(root) == []


async def test_cancelling_a_job_kills_and_reaps_ffmpeg_and_removes_its_temp_file(
    runner: ClipRunner,
    library: MediaLibrary,
    root: Path,
    ffmpeg_pids: Callable[[], list[int]],
    dead: Callable[..., bool],
    partial_files: Callable[[], list[Path]],
) -> None:
    library.put("long.mp4", root)
    running = asyncio.Event()
    seen: list[int] = []
    temp: list[Path] = []

    async def progress(fraction: float) -> None:
        seen.extend(ffmpeg_pids())
        temp.extend(partial_files())
        running.set()

    job = asyncio.create_task(runner.clip("long.mp4", RUNAWAY, progress=progress))
    await asyncio.wait_for(running.wait(), 30)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job

    assert seen and temp
    assert all(dead(pid) for pid in seen), "ffmpeg exited and was reaped, no zombie"
    assert ffmpeg_pids() == []
    assert partial_files() == [] and clip_files(root) == []


async def test_progress_grows_to_one_and_no_clip_is_visible_before_it_is_complete(
    runner: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    library.put("long.mp4", root)
    fractions: list[float] = []
    visible_while_running: list[list[Path]] = []

    async def progress(fraction: float) -> None:
        fractions.append(fraction)
        if fraction < 1.0:
            visible_while_running.append([p for p in clip_files(root) if ".partial" not in p.parts])

    result = await runner.clip(
        "long.mp4", ClipSpec(10.0, 20.0, "webm", "accurate"), progress=progress
    )

    assert len(fractions) >= 3
    assert fractions == sorted(set(fractions)), "strictly increasing"
    assert fractions[0] > 0 and fractions[-1] == 1.0
    assert all(found == [] for found in visible_while_running)
    assert (root / result.path).exists()


async def test_jobs_beyond_the_concurrency_limit_wait_for_a_free_slot(
    runner_factory: Callable[..., ClipRunner], library: MediaLibrary, root: Path
) -> None:
    library.put("video.mp4", root)
    runner = runner_factory(concurrency=1)
    windows: dict[str, list[float]] = {"a": [], "b": []}

    def track(name: str) -> Callable[[float], asyncio.Future[None]]:
        async def progress(fraction: float) -> None:
            windows[name].append(time.monotonic())

        return progress  # type: ignore[return-value]

    await asyncio.gather(
        runner.clip("video.mp4", ClipSpec(0.0, 6.0, "webm", "accurate"), progress=track("a")),
        runner.clip("video.mp4", ClipSpec(5.0, 6.0, "webm", "accurate"), progress=track("b")),
    )

    first, second = sorted(windows.values(), key=lambda times: times[0])
    assert first[-1] <= second[0], "the second job only started once the first had finished"


def test_stale_temp_files_are_removed_at_start_but_fresh_ones_can_be_kept(root: Path) -> None:
    partial = root / "clips" / ".partial"
    partial.mkdir(parents=True)
    stale, fresh = partial / "old.mp4.partial", partial / "new.mp4.partial"
    stale.write_bytes(b"half a clip")
    fresh.write_bytes(b"a clip being written")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    finished = root / "clips" / "ab" / "abcd.mp4"
    finished.parent.mkdir()
    finished.write_bytes(b"a finished clip")

    assert cleanup_stale_temp_files(root, older_than_seconds=600) == [stale]
    assert cleanup_stale_temp_files(root) == [fresh]
    assert finished.exists()
    assert cleanup_stale_temp_files(root / "nowhere") == []


WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from clipper import ClipLimits, ClipRunner, ClipSpec

    async def main() -> None:
        runner = ClipRunner(Path(sys.argv[1]), ClipLimits())
        await runner.clip("long.mp4", ClipSpec(0.0, 230.0, "webm", "accurate"))

    asyncio.run(main())
    """
)


@pytest.mark.slow
async def test_when_the_worker_is_killed_its_ffmpeg_dies_too_and_the_temp_file_is_cleaned(
    library: MediaLibrary,
    root: Path,
    ffmpeg_pids: Callable[[], list[int]],
    dead: Callable[..., bool],
    partial_files: Callable[[], list[Path]],
) -> None:
    library.put("long.mp4", root)
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(root)], cwd=Path(__file__).parents[3]
    )
    try:
        deadline = time.monotonic() + 30
        while not (pids := [p for p in ffmpeg_pids() if b"libvpx-vp9" in _cmdline(p)]):
            assert time.monotonic() < deadline, "ffmpeg never started"
            await asyncio.sleep(0.05)
        while not partial_files():
            assert time.monotonic() < deadline, "ffmpeg never began its output"
            await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        deadline = time.monotonic() + 5
        while not all(dead(pid, reaped=False) for pid in pids):
            assert time.monotonic() < deadline, "ffmpeg outlived its worker"
            await asyncio.sleep(0.05)
    finally:
        worker.kill()
        worker.wait()

    assert partial_files(), "the killed job left its temp file"
    removed = cleanup_stale_temp_files(root)
    assert removed and partial_files() == []


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


async def test_a_run_cancelled_twice_still_returns_only_once_ffmpeg_is_reaped(
    tmp_path: Path, ffmpeg_pids: Callable[[], list[int]], dead: Callable[..., bool]
) -> None:
    endless = [
        "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
        "testsrc2=size=64x64:rate=10", "-f", "nut", f"file:{tmp_path / 'endless.nut'}",
    ]  # fmt: skip
    run = asyncio.create_task(process.run(endless))
    deadline = time.monotonic() + 10
    while not (pids := ffmpeg_pids()):
        assert time.monotonic() < deadline, "ffmpeg never started"
        await asyncio.sleep(0.02)

    run.cancel()
    for _ in range(3):
        await asyncio.sleep(0)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run

    assert all(dead(pid) for pid in pids)
