"""The clip: requested → running (attempt n, progress) → succeeded | failed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.agent_commands import CompleteClip, FailClip, RecordClipProgress, StartClip
from schemas.base import Command, Event
from schemas.commands import RequestClip
from schemas.events import ClipCompleted, ClipFailed, ClipProgressed, ClipRequested, ClipStarted
from streams.domain.common import (
    CONFLICT,
    NOT_FOUND,
    UNPROCESSABLE,
    Decision,
    applied,
    duplicate,
    rejected,
)

ClipStatus = Literal["requested", "running", "succeeded", "failed"]
UNFINISHED: frozenset[ClipStatus] = frozenset({"requested", "running"})


class ClipState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    status: ClipStatus
    # The latest attempt the clipping agent started (0: none yet) and its progress.
    attempt: int = Field(default=0, ge=0)
    progress: float = Field(default=0.0, ge=0, le=1)


def decide(command: Command, state: ClipState | None, now: datetime) -> Decision:
    match command:
        case RequestClip():
            return _request(command, state)
    if state is None:
        return rejected(NOT_FOUND, "clip not found")
    match command:
        case StartClip():
            return _start(command, state)
        case RecordClipProgress():
            return _progress(command, state)
        case CompleteClip():
            return _complete(command, state)
        case FailClip():
            return _fail(command, state)
    raise TypeError(f"not a clip command: {command.TYPE}")


def evolve(state: ClipState | None, event: Event) -> ClipState:
    match event:
        case ClipRequested():
            return ClipState(status="requested")
        case ClipStarted() if state is not None:
            return state.model_copy(
                update={"status": "running", "attempt": event.attempt, "progress": 0.0}
            )
        case ClipProgressed() if state is not None:
            return state.model_copy(update={"progress": event.progress})
        case ClipCompleted() if state is not None:
            return state.model_copy(update={"status": "succeeded", "progress": 1.0})
        case ClipFailed() if state is not None:
            return state.model_copy(update={"status": "failed"})
    raise ValueError(f"{event.TYPE} cannot apply to clip state {state!r}")


def _request(command: RequestClip, state: ClipState | None) -> Decision:
    if state is not None:
        return rejected(CONFLICT, "a clip with this id already exists")
    if command.resolved_source is None:
        # The API always resolves the source; a command without it came from elsewhere.
        return rejected(UNPROCESSABLE, "the source was not resolved")
    return applied(
        ClipRequested(
            source=command.resolved_source,
            start_s=command.start,
            duration_s=command.length,
            format=command.format,
            mode=command.mode,
            aspect=command.aspect,
            title=command.title,
            project_id=command.project_id,
        )
    )


def _start(command: StartClip, state: ClipState) -> Decision:
    if state.status not in UNFINISHED:
        return rejected(CONFLICT, f"a {state.status} clip cannot be started again")
    if command.attempt <= state.attempt:
        return duplicate(f"attempt {command.attempt} was already started")
    return applied(ClipStarted(attempt=command.attempt))


def _progress(command: RecordClipProgress, state: ClipState) -> Decision:
    # Progress of an older attempt, or reported late or out of order, changes nothing.
    if (
        state.status != "running"
        or command.attempt != state.attempt
        or command.progress <= state.progress
    ):
        return duplicate("the clip's progress is already at or past this point")
    return applied(ClipProgressed(attempt=command.attempt, progress=command.progress))


def _complete(command: CompleteClip, state: ClipState) -> Decision:
    if state.status == "succeeded":
        return duplicate("the clip has already succeeded")
    if state.status == "failed":
        return rejected(CONFLICT, "a failed clip cannot be completed")
    return applied(
        ClipCompleted(
            output_asset_id=command.output_asset_id,
            path=command.path,
            thumbnail_path=command.thumbnail_path,
            media=command.media,
            actual_start_s=command.actual_start_s,
            start_offset_s=command.start_offset_s,
            lineage=command.lineage,
        )
    )


def _fail(command: FailClip, state: ClipState) -> Decision:
    if state.status == "failed":
        return duplicate("the clip has already failed")
    if state.status == "succeeded":
        return rejected(CONFLICT, "a succeeded clip cannot fail")
    return applied(ClipFailed(code=command.code, reason=command.reason))
