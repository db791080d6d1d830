"""Clipping: runs the clipper for each requested clip and reports every step.

Per ``ClipRequested`` (up to ``WAVESTACK_CLIP_CONCURRENCY`` clips at once, one at a
time per clip: streams/media/lanes.py): count the attempt in the ``media_jobs`` table
(keyed by clip id, like the events, so the table is co-partitioned with its stream)
and wait until it is on the changelog → ``StartClip(attempt)`` → check and cut the
source → on success ``RegisterClipOutput`` then ``CompleteClip``, else ``FailClip``
→ mark the job done → its offset may be committed. A crash anywhere before the
commit redelivers the event: the next attempt runs from scratch (the clipper
removed or the sweeper removes the dead attempt's temp files), and since outputs are
content-addressed and every command id is derived from the clip id, a clip still
ends with one output file, one asset, one outcome.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, ClassVar

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from clipper import ClipLimits, ClipResult, ClipRunner, ClipSpec, MediaError
from schemas.agent_commands import (
    MAX_REASON_CHARS,
    CompleteClip,
    FailClip,
    RecordClipProgress,
    RegisterClipOutput,
    StartClip,
)
from schemas.base import Command, Message
from schemas.catalog import Topics
from schemas.codec import Decoded
from schemas.envelope import Envelope
from schemas.events import ClipRequested
from schemas.ids import derived_id
from streams import metrics
from streams.media.agent import EventHandler, command_for
from streams.media.jobs import Job, Jobs
from streams.media.lineage import lineage, media_info
from streams.media.progress import ProgressReporter
from streams.media.sources import KnownSources
from streams.runtime.producing import send_once

log = structlog.get_logger("streams.media.clipping")

# A clip whose attempts took the process down this many times is failed, not retried:
# with clips in parallel, each retry would take its neighbours down again. Two hard
# kills (a deploy's SIGKILL, the fault tests) stay under it.
MAX_CRASHED_ATTEMPTS = 3
# How long a cancelled attempt may take to record that it was cancelled.
CANCEL_RECORD_SECONDS = 2.0


class SourceChangedError(MediaError):
    code = "source_changed"


def output_asset_id(clip_id: uuid.UUID) -> uuid.UUID:
    return derived_id(clip_id, "output-asset")


class ClipHandler(EventHandler):
    name: ClassVar[str] = "clips"
    handles: ClassVar[frozenset[str]] = frozenset({ClipRequested.TYPE})

    def __init__(
        self,
        producer: AIOKafkaProducer,
        topics: Topics,
        runner: ClipRunner,
        *,
        known: KnownSources | None = None,
    ) -> None:
        super().__init__(producer, topics)
        self.runner = runner
        self.known = known or KnownSources()

    @property
    def limits(self) -> ClipLimits:
        return self.runner.limits

    async def handle(self, decoded: Decoded[Message], jobs: Jobs, bound: Any) -> None:
        envelope, event = decoded.envelope, decoded.as_(ClipRequested)
        clip_id = envelope.aggregate_id
        key = str(clip_id)
        job = jobs.get(key)
        if job.done:
            # Redelivered after it finished (its offset was not committed yet): nothing left to do.
            bound.info("clip_already_done", attempt=job.attempt)
            metrics.AGENT_EVENTS.labels(self.name, "skipped").inc()
            return
        attempt = job.attempt + 1
        bound = bound.bind(clip_id=key, attempt=attempt)
        if job.crashed >= MAX_CRASHED_ATTEMPTS:
            await self._give_up(envelope, jobs, key, job, bound)
            return
        # On the changelog before ffmpeg starts, so a crash during it counts as an attempt.
        running = job.model_copy(update={"attempt": attempt})
        await jobs.put(key, running, bound)
        start = StartClip(attempt=attempt)
        await self.send([self._command(envelope, start, f"start-{attempt}")], bound)
        bound.info("clip_started", mode=event.mode, format=event.format)
        began = time.monotonic()
        try:
            reports = await self._cut(envelope, event, attempt, bound)
        except asyncio.CancelledError:
            await self._record_cancel(jobs, key, running, bound)
            raise
        for report in reports:
            # One at a time: the output asset's command is on the log before the completion.
            await self.send([report], bound)
        outcome = "succeeded" if reports[-1].type == CompleteClip.TYPE else "failed"
        metrics.CLIP_SECONDS.labels(outcome).observe(time.monotonic() - began)
        metrics.AGENT_EVENTS.labels(self.name, outcome).inc()
        await jobs.put(key, running.model_copy(update={"done": True}), bound)

    async def _record_cancel(self, jobs: Jobs, key: str, job: Job, bound: Any) -> None:
        """Marks the attempt as cancelled, so it does not count as a crash; best effort
        within a moment (the process is stopping): unrecorded, it counts as one."""
        cancelled = job.model_copy(update={"cancelled": job.cancelled + 1})
        try:
            await asyncio.wait_for(
                asyncio.shield(jobs.put(key, cancelled, bound)), CANCEL_RECORD_SECONDS
            )
        except (TimeoutError, KafkaError, asyncio.CancelledError):
            bound.warning("clip_cancel_not_recorded")

    async def _give_up(
        self, envelope: Envelope, jobs: Jobs, key: str, job: Job, bound: Any
    ) -> None:
        """Fails a clip that keeps taking the process down (its next attempt is not run)."""
        reason = (
            f"the worker stopped {job.crashed} times while cutting this clip; it was not "
            "tried again. Check the source file, or request the clip again"
        )
        bound.error("clip_gave_up", crashed=job.crashed)
        failure = self._failure(envelope, job.attempt, "worker_crashed", reason)
        await self.send([failure], bound)
        await jobs.put(key, job.model_copy(update={"done": True}), bound)
        metrics.AGENT_EVENTS.labels(self.name, "gave_up").inc()

    async def _cut(
        self, envelope: Envelope, event: ClipRequested, attempt: int, bound: Any
    ) -> list[Envelope]:
        """The commands that report this attempt's end: the output and completion, or a failure."""
        try:
            result = await self._run(envelope, event, attempt)
        except MediaError as exc:
            level = bound.info if exc.user_fault else bound.error
            level("clip_failed", code=exc.code, reason=exc.message)
            return [self._failure(envelope, attempt, exc.code, exc.message)]
        except OSError as exc:  # e.g. the media root is full or read-only
            bound.error("clip_failed", code="io_error", error=repr(exc))
            reason = f"the clip could not be written or read: {exc.strerror}"
            return [self._failure(envelope, attempt, "io_error", reason)]
        except Exception:  # a bug of ours: the clip must still end, and say so
            bound.exception("clip_crashed")
            reason = "the worker failed unexpectedly while cutting the clip; request it again"
            return [self._failure(envelope, attempt, "internal_error", reason)]
        bound.info("clip_succeeded", path=result.path, size=result.size)
        return self._success(envelope, event, result)

    async def _run(self, envelope: Envelope, event: ClipRequested, attempt: int) -> ClipResult:
        spec = ClipSpec(
            start=event.start_s,
            duration=event.duration_s,
            format=event.format,
            mode=event.mode,
            aspect=event.aspect,
        )
        source = event.source
        # Paths are relative to the organization's space, and so is the output: one
        # organization never reads or writes another's files.
        runner = self.runner.in_space(self.runner.media.space(envelope.org_id))
        # Resolving refuses anything outside the space (escapes, links out, URLs).
        path = runner.media.resolve(source.path, field="source.path")
        # Read and hashed once per file: again only when it changed (sources.py).
        found = await self.known.probe(path, self.limits, label=source.path)
        if source.sha256 is not None and found.sha256 != source.sha256:
            raise SourceChangedError(
                f"{source.path!r} has changed since it was registered (its sha256 differs); "
                "register the new file as an asset and clip that",
                field="source",
            )
        reporter = ProgressReporter(lambda f: self._report_progress(envelope, attempt, f))
        # The probe above (with its sha256) is the runner's source probe too.
        return await runner.clip(source.path, spec, progress=reporter, registered=found)

    async def _report_progress(self, envelope: Envelope, attempt: int, fraction: float) -> None:
        """Best effort, one try: a lost progress report is made good by the next one."""
        progress = RecordClipProgress(attempt=attempt, progress=fraction)
        command = self._command(envelope, progress, f"progress-{attempt}-{fraction:.3f}")
        try:
            await send_once(self.producer, [self.outgoing(command)])
        except (KafkaError, TimeoutError) as exc:
            log.warning(
                "clip_progress_not_sent", error=repr(exc), clip_id=str(envelope.aggregate_id)
            )

    def _success(
        self, envelope: Envelope, event: ClipRequested, result: ClipResult
    ) -> list[Envelope]:
        clip_id = envelope.aggregate_id
        output = result.output  # probed by the runner, at its final path
        media = media_info(output, sha256=result.sha256)
        origin = lineage(result, event.source)
        register = RegisterClipOutput(
            clip_id=clip_id,
            path=result.path,
            kind="video" if output.video is not None else "audio",
            title=event.title,
            project_id=event.project_id,
            media=media,
            thumbnail_path=result.thumbnail,
            lineage=origin,
        )
        complete = CompleteClip(
            output_asset_id=output_asset_id(clip_id),
            path=result.path,
            thumbnail_path=result.thumbnail,
            media=media,
            actual_start_s=result.actual_start,
            start_offset_s=result.start_offset,
            lineage=origin,
        )
        registered = command_for(
            envelope, register, derived_id(clip_id, "register-output"), output_asset_id(clip_id)
        )
        return [registered, self._command(envelope, complete, "complete")]

    def _failure(self, envelope: Envelope, attempt: int, code: str, reason: str) -> Envelope:
        failure = FailClip(code=code, reason=reason[:MAX_REASON_CHARS])
        return self._command(envelope, failure, f"fail-{attempt}")

    def _command(self, envelope: Envelope, command: Command, purpose: str) -> Envelope:
        """A command on the clip itself, its id derived from the clip id and ``purpose``."""
        clip_id = envelope.aggregate_id
        return command_for(envelope, command, derived_id(clip_id, purpose), clip_id)
