"""What a finished clip is: its place, shape, start and lineage. Built once it is in place."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from clipper.paths import MediaRoot
from clipper.plan import ClipPlan
from clipper.probe import Probe
from clipper.request import ClipSpec
from clipper.verify import lineage_args
from schemas.commands import ClipAspect, ClipFormat, ClipMode


@dataclass(frozen=True)
class ClipResult:
    """A finished clip. Paths are relative to the media root."""

    path: str
    format: ClipFormat
    mode: ClipMode
    aspect: ClipAspect
    duration: float
    size: int
    sha256: str
    width: int | None
    height: int | None
    # Where the clip really starts in the source, and how much before the asked start.
    actual_start: float
    start_offset: float
    thumbnail: str | None
    # Everything needed to make the same clip again: source, range, settings, ffmpeg.
    lineage: dict[str, Any]
    # The finished clip as probed or described (at its final path): no need to probe it.
    output: Probe = field(repr=False)


@dataclass(frozen=True)
class Made:
    """The pieces of a clip job, gathered by the runner."""

    media: MediaRoot
    source: Probe
    spec: ClipSpec
    plan: ClipPlan
    out: Probe  # checked, hashed
    temp: Path  # where ffmpeg wrote it (for the lineage's placeholders)
    final: Path
    thumbnail: Path | None
    ffmpeg_version: str


def clip_result(made: Made) -> ClipResult:
    media, source, spec, plan, out = made.media, made.source, made.spec, made.plan, made.out
    assert out.sha256 is not None and out.duration is not None
    return ClipResult(
        path=media.relative(made.final),
        format=spec.format,
        mode=spec.mode,
        aspect=spec.aspect,
        duration=out.duration,
        size=out.size,
        sha256=out.sha256,
        width=out.width,
        height=out.height,
        actual_start=plan.actual_start,
        start_offset=plan.start_offset,
        thumbnail=media.relative(made.thumbnail) if made.thumbnail else None,
        lineage={
            "source": {
                "path": media.relative(source.path),
                "sha256": source.sha256,
                "size": source.size,
                "duration": source.duration,
            },
            "range": {"start": spec.start, "duration": spec.duration},
            "actual_start": plan.actual_start,
            "mode": spec.mode,
            "aspect": spec.aspect,
            "format": spec.format,
            "ffmpeg_version": made.ffmpeg_version,
            "ffmpeg_args": lineage_args(plan.argv, source.path, made.temp),
        },
        output=replace(out, path=made.final),
    )
