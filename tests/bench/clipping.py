"""Clipper wall time against the bare ffmpeg command doing the same cut, same run.

The source is a 10-minute 1080p H.264/AAC file made once with lavfi and kept under
the stack's folder (it takes a minute or two to encode on two cores).

Also a batch of four accurate 10 s clips at concurrency 1, 2 and 4 (what
``WAVESTACK_CLIP_CONCURRENCY`` lets a media process run at once), in clips per
minute, against the same four bare ffmpeg cuts at the same concurrency.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

from clipper import ClipLimits, ClipRunner, ClipSpec, Probe
from tests.media import ffmpeg
from wavestack.settings import Settings

SOURCE_SECONDS = 600
SOURCE = "source-1080p-600s.mp4"
REPEATS = 3
CASES = {
    "fast 60 s": ClipSpec(start=120.0, duration=60.0, format="mp4", mode="fast"),
    "accurate 10 s": ClipSpec(start=301.3, duration=10.0, format="mp4", mode="accurate"),
}


def make_source(path: Path) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial.mp4")
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=24",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", str(SOURCE_SECONDS), "-c:v", "libx264", "-preset", "ultrafast",
        "-g", "48", "-keyint_min", "48", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", str(tmp),
    )  # fmt: skip
    tmp.rename(path)
    return path


async def _timed_argv(argv: tuple[str, ...]) -> float:
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    if await proc.wait() != 0:
        raise RuntimeError(f"bare ffmpeg failed: {' '.join(argv)}")
    return time.perf_counter() - start


async def run(settings: Settings, cache_dir: Path) -> dict[str, float]:
    # The cache folder is the media root: the source is kept between runs, and the
    # clips (content-addressed) and bare outputs are overwritten each run.
    media = cache_dir
    make_source(media / SOURCE)
    runner = ClipRunner(media, ClipLimits.from_settings(settings))
    registered = await runner.probe(SOURCE)  # as at asset registration
    figures: dict[str, float] = {}
    for name, spec in CASES.items():
        bare_times, clipper_times = [], []
        for i in range(REPEATS):
            bare_out = media / f"bare-{i}.{spec.format}"
            plan = await runner.prepare(SOURCE, spec, bare_out)
            # Both sides write a new file, as the first clip of a range does: freeing the
            # previous run's copy (ffmpeg's O_TRUNC, the clipper's replace or discard of
            # an identical file) is file-system work neither should be timed with.
            bare_out.unlink(missing_ok=True)
            bare_times.append(await _timed_argv(plan.argv))
            _forget_clips(media)
            start = time.perf_counter()
            await runner.clip(SOURCE, spec, registered=registered)
            clipper_times.append(time.perf_counter() - start)
        bare = statistics.median(bare_times)
        ours = statistics.median(clipper_times)
        overhead = ours - bare
        allowed = max(0.10 * bare, 0.100)
        figures[f"{name}: bare ffmpeg s"] = bare
        figures[f"{name}: clipper s"] = ours
        figures[f"{name}: overhead ms"] = overhead * 1000
        figures[f"{name}: overhead %"] = 100 * overhead / bare
        figures[f"{name}: within target (1=yes)"] = float(overhead <= allowed)
        if spec.mode == "fast":
            figures[f"{name}: x real time"] = spec.duration / ours
    figures.update(await batch(runner, media, registered))
    return figures


def _forget_clips(media: Path) -> None:
    """Removes the clips (and thumbnails) of earlier runs: the next one is new again."""
    for made in (media / "clips").glob("??/*"):
        made.unlink(missing_ok=True)


async def _bare(runner: ClipRunner, media: Path, i: int, spec: ClipSpec) -> None:
    plan = await runner.prepare(SOURCE, spec, media / f"bare-batch-{i}.mp4")
    await _timed_argv(plan.argv)


async def _at_once(n: int, jobs: list[Callable[[], Awaitable[object]]]) -> float:
    """Seconds to run every job, at most ``n`` at a time."""
    slots = asyncio.Semaphore(n)

    async def one(job: Callable[[], Awaitable[object]]) -> None:
        async with slots:
            await job()

    start = time.perf_counter()
    await asyncio.gather(*(one(job) for job in jobs))
    return time.perf_counter() - start


BATCH_STARTS = (61.3, 187.9, 333.1, 472.6)  # four different cuts: four outputs
BATCH_CONCURRENCY = (1, 2, 4)


async def batch(runner: ClipRunner, media: Path, registered: Probe) -> dict[str, float]:
    """Clips per minute of a four-clip batch, clipper and bare ffmpeg, N at a time."""
    specs = [
        ClipSpec(start=start, duration=10.0, format="mp4", mode="accurate")
        for start in BATCH_STARTS
    ]
    figures: dict[str, float] = {}
    for n in BATCH_CONCURRENCY:
        bare_s = await _at_once(
            n, [partial(_bare, runner, media, i, s) for i, s in enumerate(specs)]
        )
        ours_s = await _at_once(
            n, [partial(runner.clip, SOURCE, s, registered=registered) for s in specs]
        )
        figures[f"batch of 4 at concurrency {n}: clips/min"] = 4 * 60 / ours_s
        figures[f"batch of 4 at concurrency {n}: bare clips/min"] = 4 * 60 / bare_s
        figures[f"batch of 4 at concurrency {n}: ratio"] = bare_s / ours_s
    return figures
