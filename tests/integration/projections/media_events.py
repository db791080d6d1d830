"""Asset and clip envelopes as the decider emits them, for the projector tests."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from schemas.envelope import Envelope
from schemas.events import (
    AssetRegistered,
    AssetRegistrationFailed,
    AssetRegistrationRequested,
    ClipCompleted,
    ClipFailed,
    ClipProgressed,
    ClipRequested,
    ClipStarted,
)
from schemas.ids import derived_id
from schemas.media import ClipLineage, MediaInfo, ResolvedSource, StreamInfo
from tests.integration.projections.projection_support import ORG, T0, event

SOURCE_SHA = "a" * 64
OUTPUT_SHA = "b" * 64

SOURCE_MEDIA = MediaInfo(
    container="mov,mp4,m4a,3gp,3g2,mj2",
    duration_s=600.0,
    width=1920,
    height=1080,
    size_bytes=52_428_800,
    sha256=SOURCE_SHA,
    streams=[
        StreamInfo(index=0, type="video", codec="h264", width=1920, height=1080, fps=30.0),
        StreamInfo(index=1, type="audio", codec="aac", sample_rate=48000, channels=2),
    ],
)


def output_media(duration_s: float = 30.0) -> MediaInfo:
    return MediaInfo(
        container="mov,mp4,m4a,3gp,3g2,mj2",
        duration_s=duration_s,
        width=1080,
        height=1920,
        size_bytes=4_194_304,
        sha256=OUTPUT_SHA,
        streams=[StreamInfo(index=0, type="video", codec="h264", width=1080, height=1920)],
    )


def asset_requested(asset_id: uuid.UUID, *, path: str = "sources/talk.mp4", **kw: Any) -> Envelope:
    message = AssetRegistrationRequested(path=path, kind="video", title="The talk")
    return event(message, aggregate_id=asset_id, sequence=1, **kw)


def asset_registered(asset_id: uuid.UUID, *, path: str = "sources/talk.mp4", **kw: Any) -> Envelope:
    message = AssetRegistered(path=path, kind="video", title="The talk", media=SOURCE_MEDIA)
    return event(message, aggregate_id=asset_id, sequence=2, **kw)


def asset_failed(asset_id: uuid.UUID, **kw: Any) -> Envelope:
    message = AssetRegistrationFailed(code="not_media", reason="the file is not audio or video")
    return event(message, aggregate_id=asset_id, sequence=2, **kw)


def lineage(source: uuid.UUID | None, start_s: float = 62.0) -> ClipLineage:
    return ClipLineage(
        source_asset_id=source,
        source_path="sources/talk.mp4",
        source_sha256=SOURCE_SHA,
        start_s=start_s,
        duration_s=30.0,
        mode="fast",
        aspect="9:16",
        format="mp4",
        ffmpeg_version="5.1.6-0+deb12u1",
    )


def output_asset_id(clip_id: uuid.UUID) -> uuid.UUID:
    return derived_id(clip_id, "output")


def clip_output_registered(clip_id: uuid.UUID, source: uuid.UUID | None, **kw: Any) -> Envelope:
    """A clip's output asset: registered in one step, with no request before it."""
    output = output_asset_id(clip_id)
    message = AssetRegistered(
        path=f"clips/{OUTPUT_SHA[:2]}/{OUTPUT_SHA}.mp4",
        kind="video",
        title="Best moment",
        media=output_media(),
        thumbnail_path=f"clips/{OUTPUT_SHA[:2]}/{OUTPUT_SHA}.jpg",
        lineage=lineage(source),
        source_clip_id=clip_id,
    )
    return event(message, aggregate_id=output, sequence=1, **kw)


def clip_requested(clip_id: uuid.UUID, source: uuid.UUID | None, **kw: Any) -> Envelope:
    message = ClipRequested(
        source=ResolvedSource(asset_id=source, path="sources/talk.mp4", sha256=SOURCE_SHA),
        start_s=62.0,
        duration_s=30.0,
        format="mp4",
        mode="fast",
        aspect="9:16",
        title="Best moment",
    )
    return event(message, aggregate_id=clip_id, sequence=1, **kw)


def clip_started(clip_id: uuid.UUID, sequence: int, attempt: int = 1, **kw: Any) -> Envelope:
    return event(ClipStarted(attempt=attempt), aggregate_id=clip_id, sequence=sequence, **kw)


def clip_progressed(
    clip_id: uuid.UUID, sequence: int, progress: float, attempt: int = 1, **kw: Any
) -> Envelope:
    message = ClipProgressed(attempt=attempt, progress=progress)
    return event(message, aggregate_id=clip_id, sequence=sequence, **kw)


def clip_completed(
    clip_id: uuid.UUID, sequence: int, source: uuid.UUID | None, **kw: Any
) -> Envelope:
    message = ClipCompleted(
        output_asset_id=output_asset_id(clip_id),
        path=f"clips/{OUTPUT_SHA[:2]}/{OUTPUT_SHA}.mp4",
        thumbnail_path=f"clips/{OUTPUT_SHA[:2]}/{OUTPUT_SHA}.jpg",
        media=output_media(),
        actual_start_s=60.0,
        start_offset_s=-2.0,
        lineage=lineage(source),
    )
    return event(message, aggregate_id=clip_id, sequence=sequence, **kw)


def clip_failed(clip_id: uuid.UUID, sequence: int, **kw: Any) -> Envelope:
    message = ClipFailed(code="timeout", reason="ffmpeg ran longer than 600 s and was stopped")
    return event(message, aggregate_id=clip_id, sequence=sequence, **kw)


def media_workload(org_id: str = ORG, clips: int = 6) -> list[Envelope]:
    """Events of a varied media history: a source registered, one that failed, and clips
    that succeeded (with their output assets), failed, or are still running after a
    restart."""
    base = uuid.uuid5(uuid.NAMESPACE_URL, f"{org_id}/media")
    source, broken = derived_id(base, "source"), derived_id(base, "broken")
    events = [
        asset_requested(source, org_id=org_id),
        asset_registered(source, org_id=org_id),
        asset_requested(broken, path="sources/notes.txt", org_id=org_id),
        asset_failed(broken, org_id=org_id),
    ]
    for n in range(clips):
        clip = derived_id(base, f"clip-{n}")
        later = {"org_id": org_id, "occurred_at": T0 + timedelta(hours=1, minutes=n)}
        events += [
            clip_requested(clip, source, org_id=org_id),
            clip_started(clip, 2, org_id=org_id),
            clip_progressed(clip, 3, 0.5, org_id=org_id),
        ]
        if n % 3 == 0:
            events += [
                clip_output_registered(clip, source, **later),
                clip_completed(clip, 4, source, **later),
            ]
        elif n % 3 == 1:
            events.append(clip_failed(clip, 4, **later))
        else:
            events.append(clip_started(clip, 4, attempt=2, **later))
    return events
