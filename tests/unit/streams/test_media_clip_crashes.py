"""A clip whose attempts keep taking the media process down is failed, not run again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import structlog

from clipper import ClipLimits, ClipRunner
from schemas.catalog import Topics
from schemas.codec import encode, read, wrap
from schemas.envelope import Actor, Envelope
from schemas.events import ClipRequested
from schemas.media import ResolvedSource
from streams.media.clipping import MAX_CRASHED_ATTEMPTS, ClipHandler
from streams.media.jobs import Job, Jobs
from tests.unit.streams.test_media_agent_helpers import MemoryTable

CLIP = uuid.uuid4()


def requested() -> Any:
    event = ClipRequested(
        source=ResolvedSource(asset_id=None, path="in/video.mp4", sha256=None),
        start_s=0.0,
        duration_s=1.0,
        format="mp4",
        mode="fast",
        aspect="source",
        title="",
        project_id=None,
    )
    env = wrap(
        event,
        id=uuid.uuid4(),
        org_id="org",
        aggregate_id=CLIP,
        sequence=1,
        occurred_at=datetime.now(UTC),
        command_id=CLIP,
        correlation_id=CLIP,
        causation_id=CLIP,
        actor=Actor(sub="t"),
    )
    return read(encode(env))


class Recording(ClipHandler):
    def __init__(self, tmp: Path, cut: Any = None) -> None:
        super().__init__(None, Topics("t"), ClipRunner(tmp, ClipLimits()))
        self.sent: list[Envelope] = []
        self.cut = cut

    async def send(self, commands: Sequence[Envelope], bound: Any) -> None:
        self.sent.extend(commands)

    async def _cut(self, envelope: Envelope, event: Any, attempt: int, bound: Any) -> Any:
        return await self.cut()


def test_only_attempts_neither_finished_nor_cancelled_count_as_crashes() -> None:
    assert Job().crashed == 0
    assert Job(attempt=2).crashed == 2
    assert Job(attempt=2, cancelled=1).crashed == 1
    assert Job(attempt=3, cancelled=1, done=True).crashed == 1


async def test_after_the_crash_limit_the_clip_fails_without_running_again(tmp_path: Path) -> None:
    jobs = Jobs(MemoryTable())
    await jobs.put(str(CLIP), Job(attempt=MAX_CRASHED_ATTEMPTS), None)
    handler = Recording(tmp_path, cut=None)  # a cut would raise: it must not run
    await handler.handle(requested(), jobs, structlog.get_logger())
    [failure] = handler.sent
    assert (failure.type, failure.data["code"]) == ("clip.FailClip", "worker_crashed")
    assert jobs.get(str(CLIP)).done


async def test_a_cancelled_attempt_is_recorded_as_cancelled_not_as_a_crash(tmp_path: Path) -> None:
    jobs = Jobs(MemoryTable())
    started = asyncio.Event()

    async def forever() -> Any:
        started.set()
        await asyncio.sleep(3600)

    handler = Recording(tmp_path, cut=forever)
    task = asyncio.create_task(handler.handle(requested(), jobs, structlog.get_logger()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    job = jobs.get(str(CLIP))
    assert (job.attempt, job.cancelled, job.crashed, job.done) == (1, 1, 0, False)
    assert [e.type for e in handler.sent] == ["clip.StartClip"]
