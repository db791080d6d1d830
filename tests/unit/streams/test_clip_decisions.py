"""The clip's pure decide/evolve: request, attempts, progress, completion and failure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from schemas.agent_commands import CompleteClip, FailClip, RecordClipProgress, StartClip
from schemas.base import Command
from schemas.commands import ClipSource, RequestClip
from schemas.events import ClipCompleted, ClipFailed, ClipProgressed, ClipRequested, ClipStarted
from schemas.media import ClipLineage, MediaInfo, ResolvedSource
from streams.domain.clip import ClipState, ClipStatus, decide, evolve

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ASSET = uuid.uuid4()
RESOLVED = ResolvedSource(asset_id=ASSET, path="in/video.mp4", sha256="b" * 64)
MEDIA = MediaInfo(container="mp4", duration_s=3.0, size_bytes=10, sha256="c" * 64)
LINEAGE = ClipLineage(
    source_asset_id=ASSET,
    source_path="in/video.mp4",
    source_sha256="b" * 64,
    start_s=62.0,
    duration_s=3.0,
    mode="fast",
    aspect="source",
    format="mp4",
    ffmpeg_version="7.1",
)
COMPLETE = CompleteClip(
    output_asset_id=uuid.uuid4(),
    path="clips/cc/" + "c" * 64 + ".mp4",
    media=MEDIA,
    actual_start_s=61.5,
    start_offset_s=0.5,
    lineage=LINEAGE,
)
FAIL = FailClip(code="timeout", reason="the clip took longer than the limit of 600 s")


def request(**changes: object) -> RequestClip:
    values: dict[str, object] = {
        "source": ClipSource(asset_id=ASSET),
        "start": 62.0,
        "end": 65.0,
        "mode": "accurate",
        "aspect": "9:16",
        "format": "webm",
        "title": "Hype",
        "resolved_source": RESOLVED,
    }
    values.update(changes)
    return RequestClip.model_validate(values)


def state(status: ClipStatus = "running", attempt: int = 1, progress: float = 0.0) -> ClipState:
    return ClipState(status=status, attempt=attempt, progress=progress)


def test_a_request_with_a_resolved_source_is_requested_with_start_and_duration() -> None:
    decision = decide(request(), None, NOW)
    assert decision.events == (
        ClipRequested(
            source=RESOLVED,
            start_s=62.0,
            duration_s=3.0,
            format="webm",
            mode="accurate",
            aspect="9:16",
            title="Hype",
        ),
    )
    assert evolve(None, decision.events[0]) == ClipState(status="requested")


def test_a_request_with_a_duration_keeps_it() -> None:
    [event] = decide(request(end=None, duration=45.0), None, NOW).events
    assert isinstance(event, ClipRequested)
    assert (event.start_s, event.duration_s) == (62.0, 45.0)


def test_a_request_whose_source_was_not_resolved_is_unprocessable() -> None:
    decision = decide(request(resolved_source=None), None, NOW)
    assert (decision.outcome, decision.status, decision.reason) == (
        "rejected",
        422,
        "the source was not resolved",
    )


def test_a_request_on_an_existing_clip_is_a_conflict() -> None:
    decision = decide(request(), state("requested", 0), NOW)
    assert (decision.outcome, decision.status) == ("rejected", 409)


@pytest.mark.parametrize(
    "command",
    [StartClip(attempt=1), RecordClipProgress(attempt=1, progress=0.5), COMPLETE, FAIL],
)
def test_agent_commands_on_an_unknown_clip_are_not_found(command: Command) -> None:
    decision = decide(command, None, NOW)
    assert (decision.outcome, decision.status) == ("rejected", 404)


@pytest.mark.parametrize(("status", "attempt"), [("requested", 0), ("running", 1)])
def test_a_newer_attempt_starts_the_clip(status: ClipStatus, attempt: int) -> None:
    decision = decide(StartClip(attempt=attempt + 1), state(status, attempt, 0.4), NOW)
    assert decision.events == (ClipStarted(attempt=attempt + 1),)
    assert evolve(state(status, attempt, 0.4), decision.events[0]) == state(
        "running", attempt + 1, 0.0
    )


@pytest.mark.parametrize("attempt", [1, 2])
def test_an_attempt_that_is_not_newer_is_a_duplicate(attempt: int) -> None:
    decision = decide(StartClip(attempt=attempt), state("running", 2), NOW)
    assert (decision.outcome, decision.events) == ("duplicate", ())


@pytest.mark.parametrize("status", ["succeeded", "failed"])
def test_a_finished_clip_cannot_be_started_again(status: ClipStatus) -> None:
    decision = decide(StartClip(attempt=5), state(status, 1), NOW)
    assert (decision.outcome, decision.status) == ("rejected", 409)
    assert decision.reason is not None and status in decision.reason


def test_progress_of_the_running_attempt_moves_forward() -> None:
    decision = decide(RecordClipProgress(attempt=2, progress=0.5), state("running", 2, 0.25), NOW)
    assert decision.events == (ClipProgressed(attempt=2, progress=0.5),)
    assert evolve(state("running", 2, 0.25), decision.events[0]).progress == 0.5


@pytest.mark.parametrize(
    ("command", "current"),
    [
        (RecordClipProgress(attempt=2, progress=0.5), state("running", 2, 0.5)),
        (RecordClipProgress(attempt=2, progress=0.3), state("running", 2, 0.5)),
        (RecordClipProgress(attempt=1, progress=0.9), state("running", 2, 0.5)),
        (RecordClipProgress(attempt=1, progress=0.9), state("requested", 0)),
        (RecordClipProgress(attempt=1, progress=0.9), state("succeeded", 1, 1.0)),
    ],
)
def test_progress_that_is_stale_late_or_from_another_attempt_is_a_duplicate(
    command: RecordClipProgress, current: ClipState
) -> None:
    decision = decide(command, current, NOW)
    assert (decision.outcome, decision.events) == ("duplicate", ())


@pytest.mark.parametrize(("status", "attempt"), [("requested", 0), ("running", 1)])
def test_completing_an_unfinished_clip_succeeds_it(status: ClipStatus, attempt: int) -> None:
    decision = decide(COMPLETE, state(status, attempt), NOW)
    [event] = decision.events
    assert isinstance(event, ClipCompleted)
    assert (event.output_asset_id, event.lineage, event.start_offset_s) == (
        COMPLETE.output_asset_id,
        LINEAGE,
        0.5,
    )
    assert evolve(state(status, attempt), event) == state("succeeded", attempt, 1.0)


def test_completing_a_succeeded_clip_is_a_duplicate() -> None:
    decision = decide(COMPLETE, state("succeeded"), NOW)
    assert (decision.outcome, decision.events) == ("duplicate", ())


def test_completing_a_failed_clip_is_refused() -> None:
    decision = decide(COMPLETE, state("failed"), NOW)
    assert (decision.outcome, decision.status) == ("rejected", 409)


@pytest.mark.parametrize(("status", "attempt"), [("requested", 0), ("running", 1)])
def test_failing_an_unfinished_clip_fails_it_with_the_reason(
    status: ClipStatus, attempt: int
) -> None:
    decision = decide(FAIL, state(status, attempt), NOW)
    assert decision.events == (ClipFailed(code="timeout", reason=FAIL.reason),)
    assert evolve(state(status, attempt), decision.events[0]).status == "failed"


def test_failing_a_failed_clip_is_a_duplicate() -> None:
    decision = decide(FAIL, state("failed"), NOW)
    assert (decision.outcome, decision.events) == ("duplicate", ())


def test_failing_a_succeeded_clip_is_refused() -> None:
    decision = decide(FAIL, state("succeeded"), NOW)
    assert (decision.outcome, decision.status) == ("rejected", 409)


def test_a_clip_event_cannot_apply_to_a_clip_that_does_not_exist() -> None:
    with pytest.raises(ValueError, match="cannot apply"):
        evolve(None, ClipStarted(attempt=1))
