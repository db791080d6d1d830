"""Clip jobs: bounded concurrency, a wall-clock timeout, progress, and atomic publication."""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Awaitable
from dataclasses import replace
from pathlib import Path

from clipper import process
from clipper.errors import ClipTimeoutError, FfmpegError, LimitExceededError
from clipper.limits import ClipLimits
from clipper.paths import MediaRoot
from clipper.plan import (
    ClipPlan,
    ThumbnailFormat,
    plan_clip,
    plan_thumbnail,
    with_landing,
    with_progress,
)
from clipper.probe import Probe, probe, sha256_file
from clipper.progress import ProgressCallback, ProgressTracker
from clipper.request import ClipSpec
from clipper.result import ClipResult, Made, clip_result
from clipper.seek import (
    SeekPoint,
    find_seek_point,
    keyframe_from_framecrc,
    landing_keyframe,
    predictable_seek,
)
from clipper.store import clip_path, discard, publish, sync_file, temp_path, thumbnail_path
from clipper.verify import (
    check_report,
    check_streams,
    copied_output,
    copy_duration,
)

# The thumbnail and the keyframe lookup yield the CPU to the cut they run beside: the
# cut is what the caller waits for, they have until it is hashed to finish.
BESIDE_NICENESS = 10
_VERSION = re.compile(r"^ffmpeg version (\S+)")


class ClipRunner:
    """Runs clip jobs against one media root within ``limits``.

    ``clip`` is safe to call from many tasks: at most ``limits.concurrency`` jobs run at
    once, each bounded by ``limits.timeout_seconds`` from the moment it gets its slot.
    Cancelling the calling task stops its ffmpeg (SIGTERM, then SIGKILL), reaps it and
    removes its temporary files before the cancellation propagates.
    """

    def __init__(
        self,
        media_root: Path,
        limits: ClipLimits,
        *,
        ffmpeg: str = "ffmpeg",
        ffprobe: str = "ffprobe",
        thumbnail_format: ThumbnailFormat = "jpg",
        durable: bool = True,
    ) -> None:
        self.media = MediaRoot(media_root)
        self.limits = limits
        self._ffmpeg = ffmpeg
        self._ffprobe = ffprobe
        self._thumbnail_format: ThumbnailFormat = thumbnail_format
        self._durable = durable
        self._slots = asyncio.Semaphore(limits.concurrency)
        self._version: str | None = None
        # Our own outputs may be larger than a source may be; they are capped by -fs.
        self._output_limits = replace(
            limits, max_source_bytes=max(limits.max_source_bytes, limits.max_output_bytes)
        )

    def in_space(self, media: MediaRoot) -> ClipRunner:
        """This runner working in another root (an organization's space).

        The view shares the concurrency slots, so ``limits.concurrency`` still bounds
        the clips of every space together.
        """
        view = copy.copy(self)
        view.media = media
        return view

    async def clip(
        self,
        source: str,
        spec: ClipSpec,
        *,
        progress: ProgressCallback | None = None,
        registered: Probe | None = None,
    ) -> ClipResult:
        """Cut ``spec`` out of ``source`` (a path relative to the media root).

        ``progress`` is awaited with fractions in (0, 1] that only grow, 1.0 once the
        clip is in place; an exception it raises aborts the job. A source registered as
        an asset was probed then: pass that ``registered`` probe (still used only while
        the file keeps its size, else probed again) so that a large source is not read
        again. Raises a MediaError subclass with a message for the user.
        """
        path = self.media.resolve(source, field="source.path")
        async with self._slots:
            try:
                async with asyncio.timeout(self.limits.timeout_seconds):
                    return await self._clip(path, spec, progress, registered)
            except TimeoutError as exc:
                raise ClipTimeoutError(
                    f"the clip took longer than the limit of {self.limits.timeout_seconds:g} s; "
                    "ask for a shorter range, or use mode=fast"
                ) from exc

    async def probe(self, source: str, *, with_sha256: bool = True) -> Probe:
        """Describe a file under the media root (asset registration), or refuse it."""
        path = self.media.resolve(source)
        return await self._probe_source(path, with_sha256=with_sha256)

    async def prepare(self, source: str, spec: ClipSpec, output: Path) -> ClipPlan:
        """The ffmpeg command ``clip`` runs, writing to ``output`` (for benchmarks)."""
        path = self.media.resolve(source, field="source.path")
        source_probe = await self._probe_source(path, with_sha256=False)
        spec.check_against(source_probe)
        seek = await self._find_seek(source_probe, spec)
        return self._plan(source_probe, spec, seek, output)

    async def ffmpeg_version(self) -> str:
        if self._version is None:
            done = await process.run([self._ffmpeg, "-hide_banner", "-version"])
            found = _VERSION.match(done.stdout.decode("utf-8", "replace"))
            self._version = found.group(1) if found else "unknown"
        return self._version

    async def _clip(
        self,
        path: Path,
        spec: ClipSpec,
        progress: ProgressCallback | None,
        registered: Probe | None,
    ) -> ClipResult:
        source = await self._source(path, registered, with_sha256=True)
        spec.check_against(source)
        version = await self.ffmpeg_version()
        temp = temp_path(self.media.root, spec.format)
        thumb_temp = temp_path(self.media.root, self._thumbnail_format) if source.video else None
        try:
            plan, out = await self._cut(source, spec, temp, thumb_temp, progress)
            assert out.sha256 is not None
            digest = out.sha256
            final = clip_path(self.media.root, digest, spec.format)
            thumb_final = None
            if thumb_temp is not None:
                thumb_final = thumbnail_path(self.media.root, digest, self._thumbnail_format)
                # The thumbnail first: whoever sees the clip can count on its thumbnail.
                await asyncio.to_thread(
                    publish, thumb_temp, thumb_final, durable=self._durable, synced=True
                )
            await asyncio.to_thread(publish, temp, final, durable=self._durable, synced=True)
        finally:
            # In a thread: unlinking a large file takes the file system a while.
            await asyncio.to_thread(discard, temp, thumb_temp)
        if progress is not None:
            await progress(1.0)
        made = Made(self.media, source, spec, plan, out, temp, final, thumb_final, version)
        return clip_result(made)

    async def _sync(self, *paths: Path | None) -> None:
        if self._durable:
            for path in paths:
                if path is not None:
                    await asyncio.to_thread(sync_file, path)

    async def _cut(
        self,
        source: Probe,
        spec: ClipSpec,
        output: Path,
        thumbnail: Path | None,
        progress: ProgressCallback | None,
    ) -> tuple[ClipPlan, Probe]:
        """The cut, checked, described, hashed and flushed; its thumbnail made and flushed.

        The thumbnail and (when it can wait) the keyframe lookup run beside ffmpeg, and
        whatever of them is left when the cut ends goes on while the cut is hashed.
        """
        input_seek = predictable_seek(source, spec.start)
        if input_seek is None:
            seek = await self._find_seek(source, spec)
        else:
            seek = SeekPoint(input_seek, input_seek)
        plan = self._plan(source, spec, seek, output)
        lookup = input_seek is not None and spec.mode == "fast"
        beside = asyncio.ensure_future(
            process.together(
                self._thumbnail(source, spec, seek, thumbnail, landing=lookup)
                if thumbnail
                else process.nothing(),
                self._landing(source, spec.start)
                if lookup and not thumbnail
                else process.nothing(),
            )
        )
        try:
            report = await self._run_ffmpeg(plan, progress)
            out = await self._finish(source, spec, plan, report, output)
            seen, looked_up = await beside
            keyframe = looked_up if looked_up is not None else seen
            await self._sync(thumbnail)
        except BaseException:
            beside.cancel()
            await asyncio.gather(beside, return_exceptions=True)
            raise
        if keyframe is not None:
            plan = replace(plan, actual_start=keyframe, start_offset=spec.start - keyframe)
        if spec.mode == "fast":
            out = replace(out, duration=copy_duration(report, plan))
        return plan, out

    async def _finish(
        self, source: Probe, spec: ClipSpec, plan: ClipPlan, report: ProgressTracker, temp: Path
    ) -> Probe:
        """The finished cut checked, described, hashed and flushed to disk.

        ffmpeg's final report proves the file complete (verify.check_report). A stream
        copy is described from the source; a re-encode is probed, since only ffprobe
        knows exactly what the encoders made. Hash, flush and probe only read the
        finished file, so they run at once.
        """
        size = (await asyncio.to_thread(temp.stat)).st_size
        if size >= self.limits.max_output_bytes:
            raise LimitExceededError(
                f"the clip would be larger than the limit of {self.limits.max_output_bytes} "
                "bytes; ask for a shorter range or a smaller aspect"
            )
        check_report(report, size, source)
        described: Awaitable[Probe]
        if spec.mode == "fast":
            described = process.ready(copied_output(source, spec.format, plan, report, temp))
        else:
            described = probe(
                temp,
                self._output_limits,
                with_sha256=False,
                label="the clip",
                ffprobe=self._ffprobe,
            )
        out: Probe
        digest: str
        out, digest, _ = await process.together(
            described, asyncio.to_thread(sha256_file, temp), self._sync(temp)
        )
        check_streams(out, source)
        return replace(out, sha256=digest)

    async def _source(self, path: Path, registered: Probe | None, *, with_sha256: bool) -> Probe:
        if registered is not None:
            size = (await asyncio.to_thread(path.stat)).st_size
            if size == registered.size:
                return replace(registered, path=path)
        return await self._probe_source(path, with_sha256=with_sha256)

    async def _probe_source(self, path: Path, *, with_sha256: bool) -> Probe:
        return await probe(
            path,
            self.limits,
            with_sha256=with_sha256,
            label=self.media.relative(path),
            ffprobe=self._ffprobe,
        )

    async def _find_seek(self, source: Probe, spec: ClipSpec) -> SeekPoint:
        return await find_seek_point(
            source,
            spec.start,
            spec.end,
            latest=spec.mode == "fast",
            limits=self.limits,
            ffprobe=self._ffprobe,
        )

    async def _landing(self, source: Probe, start: float) -> float:
        return await landing_keyframe(
            source,
            start,
            start,
            limits=self.limits,
            ffprobe=self._ffprobe,
            niceness=BESIDE_NICENESS,
        )

    def _plan(self, source: Probe, spec: ClipSpec, seek: SeekPoint, output: Path) -> ClipPlan:
        return plan_clip(
            source,
            spec,
            seek,
            output,
            max_output_bytes=self.limits.max_output_bytes,
            ffmpeg=self._ffmpeg,
        )

    async def _run_ffmpeg(
        self, plan: ClipPlan, progress: ProgressCallback | None
    ) -> ProgressTracker:
        """Runs the cut; returns ffmpeg's final report of the file it wrote."""
        tracker = ProgressTracker(plan.expected_duration)

        async def on_line(line: str) -> None:
            fraction = tracker.feed(line)
            if fraction is not None and progress is not None:
                await progress(fraction)

        done = await process.run(with_progress(plan.argv), on_line=on_line)
        if done.returncode != 0:
            raise FfmpegError(f"ffmpeg failed to cut the clip: {self._last_line(done.stderr)}")
        return tracker

    async def _thumbnail(
        self, source: Probe, spec: ClipSpec, seek: SeekPoint, output: Path, *, landing: bool
    ) -> float | None:
        """Makes the thumbnail; with ``landing``, also returns the keyframe the cut starts
        from, read from the same run (or, if it printed none, from ffprobe)."""
        argv = plan_thumbnail(
            source, spec, seek, output, fmt=self._thumbnail_format, ffmpeg=self._ffmpeg
        )
        if landing:
            argv = with_landing(argv, source)
        done = await process.run(argv, niceness=BESIDE_NICENESS)
        made = await asyncio.to_thread(lambda: output.is_file() and output.stat().st_size > 0)
        if done.returncode != 0 or not made:
            raise FfmpegError(f"ffmpeg failed to make a thumbnail: {self._last_line(done.stderr)}")
        if not landing:
            return None
        keyframe = keyframe_from_framecrc(done.stdout, seek.input_seek)
        return keyframe if keyframe is not None else await self._landing(source, spec.start)

    def _last_line(self, stderr: str) -> str:
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        # Messages reach users: no paths of this machine in them.
        return (lines[-1] if lines else "no message").replace(str(self.media.root), "<media>")
