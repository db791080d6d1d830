"""clips: one row per clip job, requested → running (attempt, progress) → succeeded | failed."""

from __future__ import annotations

from projections.handlers.failed import mark_failed
from projections.handlers.guard import applies, changed
from projections.tables import CLIPS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.events import ClipCompleted, ClipFailed, ClipProgressed, ClipRequested, ClipStarted


def requested(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    if row is not None:
        return row
    env, clip = decoded.envelope, decoded.as_(ClipRequested)
    return new_row(
        CLIPS,
        id=env.aggregate_id,
        org_id=env.org_id,
        project_id=clip.project_id,
        source_asset_id=clip.source.asset_id,
        source_path=clip.source.path,
        start_s=clip.start_s,
        duration_s=clip.duration_s,
        format=clip.format,
        mode=clip.mode,
        aspect=clip.aspect,
        title=clip.title,
        status="requested",
        progress=0.0,
        created_at=env.occurred_at,
        updated_at=env.occurred_at,
        version=env.sequence,
        attempt=0,
    )


def started(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    start = decoded.as_(ClipStarted)
    if row is None or not applies(row, decoded.envelope):
        return row
    # A new attempt (the worker restarted the job) starts its progress from zero.
    return changed(row, decoded.envelope, status="running", attempt=start.attempt, progress=0.0)


def progressed(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    step = decoded.as_(ClipProgressed)
    if row is None or not applies(row, decoded.envelope):
        return row
    return changed(row, decoded.envelope, progress=step.progress)


def completed(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    done = decoded.as_(ClipCompleted)
    if row is None or not applies(row, decoded.envelope):
        return row
    return changed(
        row,
        decoded.envelope,
        status="succeeded",
        progress=1.0,
        output_asset_id=done.output_asset_id,
        actual_start_s=done.actual_start_s,
        start_offset_s=done.start_offset_s,
        lineage=done.lineage.model_dump(mode="json"),
    )


def failed(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    failure = decoded.as_(ClipFailed)
    return mark_failed(row, decoded.envelope, failure.reason, failure.code)
