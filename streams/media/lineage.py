"""What the clipper found, in the shape the log carries it (schemas.media). Pure."""

from __future__ import annotations

from typing import Any, cast, get_args

from clipper import ClipResult, Probe
from clipper import StreamInfo as ProbedStream
from schemas.media import ClipLineage, MediaInfo, ResolvedSource, StreamInfo

_STREAM_TYPES: frozenset[str] = frozenset(get_args(StreamInfo.model_fields["type"].annotation))


def media_info(found: Probe, *, sha256: str | None = None) -> MediaInfo:
    """``sha256``: a digest already known for the file, when the probe skipped hashing."""
    digest = sha256 or found.sha256
    if digest is None:
        raise ValueError("a MediaInfo needs the file's sha256")
    return MediaInfo(
        container=found.format_name,
        duration_s=found.duration,
        width=found.width,
        height=found.height,
        size_bytes=found.size,
        sha256=digest,
        streams=[_stream(s) for s in found.streams],
    )


def _stream(found: ProbedStream) -> StreamInfo:
    kind = found.codec_type if found.codec_type in _STREAM_TYPES else "unknown"
    return StreamInfo(
        index=found.index,
        type=cast(Any, kind),  # one of the Literal's values, checked just above
        codec=found.codec_name,
        width=found.width,
        height=found.height,
        fps=found.fps,
        sample_rate=found.sample_rate,
        channels=found.channels,
    )


def lineage(result: ClipResult, source: ResolvedSource) -> ClipLineage:
    """What the clip was cut from and how: enough to cut the same clip again."""
    origin = result.lineage["source"]
    return ClipLineage(
        source_asset_id=source.asset_id,
        source_path=str(origin["path"]),
        source_sha256=str(origin["sha256"]),
        start_s=float(result.lineage["range"]["start"]),
        duration_s=float(result.lineage["range"]["duration"]),
        mode=result.mode,
        aspect=result.aspect,
        format=result.format,
        ffmpeg_version=str(result.lineage["ffmpeg_version"]),
    )
