"""The exact ffmpeg command lines for a clip and its thumbnail: pure functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from clipper.errors import InvalidClipRequestError
from clipper.formats import (
    AUDIO_ENCODERS,
    AV_DEMUXERS,
    FASTSTART_FORMATS,
    MUXERS,
    VIDEO_ENCODERS,
    whitelist,
)
from clipper.paths import ffmpeg_url
from clipper.probe import Probe, StreamInfo
from clipper.request import ClipSpec
from clipper.seek import SeekPoint
from schemas.commands import ClipAspect

ThumbnailFormat = Literal["jpg", "png"]
THUMBNAIL_MAX_WIDTH = 640
_ASPECTS: dict[ClipAspect, tuple[int, int]] = {"9:16": (9, 16), "1:1": (1, 1), "16:9": (16, 9)}


@dataclass(frozen=True)
class Frame:
    """The picture after reframing: optional square-pixel rescale, then a centre crop."""

    width: int
    height: int
    filters: str | None  # the -filter:v chain, None when the picture passes unchanged


@dataclass(frozen=True)
class ClipPlan:
    """One ffmpeg run. ``argv`` is the bare command (what a benchmark times)."""

    argv: tuple[str, ...]
    # Length of the output timeline, for progress: from the keyframe (fast) or start.
    expected_duration: float
    actual_start: float
    # How much earlier than asked the clip begins: 0 in accurate mode.
    start_offset: float
    frame: Frame | None
    # The -ss before -i: ffmpeg's progress times count from it.
    input_seek: float = 0.0


def input_args(ffmpeg: str = "ffmpeg") -> list[str]:
    """Global and input options every ffmpeg run starts with."""
    return [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        whitelist(AV_DEMUXERS),
    ]


def reframe(video: StreamInfo, aspect: ClipAspect) -> Frame:
    """Centre-crop to ``aspect`` with even dimensions (yuv420p needs them), never upscaling.

    Non-square pixels are first rescaled to square ones so the ratio is the one a
    viewer sees. The output ratio is exact: 9:16 gives 18k x 32k pixels.
    """
    if not video.width or not video.height:
        raise InvalidClipRequestError("the video stream has no known dimensions", field="source")
    filters: list[str] = []
    width, height = video.width, video.height
    if abs(video.sample_aspect_ratio - 1.0) > 1e-3:
        width = max(2, round(width * video.sample_aspect_ratio / 2) * 2)
        filters.append(f"scale={width}:{height}")
    if aspect == "source":
        out_w, out_h = width - width % 2, height - height % 2
    else:
        ratio_w, ratio_h = _ASPECTS[aspect]
        unit = min(width // (2 * ratio_w), height // (2 * ratio_h))
        if unit == 0:
            raise InvalidClipRequestError(
                f"the video ({width}x{height}) is too small to reframe to {aspect}",
                field="aspect",
            )
        out_w, out_h = 2 * ratio_w * unit, 2 * ratio_h * unit
    if (out_w, out_h) != (width, height):
        filters.append(f"crop={out_w}:{out_h}:{(width - out_w) // 2}:{(height - out_h) // 2}")
    if filters:
        filters.append("setsar=1")
    return Frame(out_w, out_h, ",".join(filters) or None)


def plan_clip(
    source: Probe,
    spec: ClipSpec,
    seek: SeekPoint,
    output: Path,
    *,
    max_output_bytes: int,
    ffmpeg: str = "ffmpeg",
) -> ClipPlan:
    """The ffmpeg command that cuts ``spec`` out of ``source`` into ``output``.

    fast: ``-ss`` before ``-i`` (keyframe seek) and ``-c copy``; the copy starts at the
    keyframe ``seek.keyframe`` and ends at ``spec.end``. accurate: the same seek, then
    decode and drop frames up to ``spec.start`` and re-encode exactly ``spec.duration``.
    Only the first video and first audio stream are kept; metadata and chapters are not
    copied, and the output is bit-exact so the same request gives the same bytes.
    """
    argv = [*input_args(ffmpeg), "-ss", _s(seek.input_seek), "-i", ffmpeg_url(source.path)]
    video, audio = source.video, source.audio
    frame = None
    if spec.mode == "fast":
        # -t counts from the -ss point, whichever keyframe the copy starts at.
        argv += ["-t", _s(spec.end - seek.input_seek)]
        expected = spec.end - seek.keyframe
    else:
        if spec.start > seek.input_seek:
            argv += ["-ss", _s(spec.start - seek.input_seek)]
        argv += ["-t", _s(spec.duration)]
        expected = spec.duration
    for stream in (video, audio):
        if stream is not None:
            argv += ["-map", f"0:{stream.index}"]
    argv += ["-map_metadata", "-1", "-map_chapters", "-1"]
    if spec.mode == "fast":
        argv += ["-c", "copy", "-avoid_negative_ts", "make_zero"]
        if video is not None:
            frame = Frame(video.width or 0, video.height or 0, None)
    else:
        if video is not None:
            frame = reframe(video, spec.aspect)
            if frame.filters:
                argv += ["-filter:v", frame.filters]
            # Keep each frame's own timestamp: the default constant-rate output would
            # duplicate the first frame when start falls between two frames.
            argv += ["-fps_mode:v", "vfr", *VIDEO_ENCODERS[spec.format]]
        if audio is not None:
            argv += AUDIO_ENCODERS[spec.format]
            if spec.format == "webm" and (audio.channels or 0) > 2:
                argv += ["-ac", "2"]  # libopus refuses many surround layouts
    if spec.format in FASTSTART_FORMATS:
        argv += ["-movflags", "+faststart"]
    argv += ["-fflags", "+bitexact", "-fs", str(max_output_bytes)]
    argv += ["-f", MUXERS[spec.format], ffmpeg_url(output)]
    actual_start = seek.keyframe if spec.mode == "fast" else spec.start
    return ClipPlan(
        argv=tuple(argv),
        expected_duration=expected,
        actual_start=actual_start,
        start_offset=spec.start - actual_start,
        frame=frame,
        input_seek=seek.input_seek,
    )


def plan_thumbnail(
    source: Probe,
    spec: ClipSpec,
    seek: SeekPoint,
    output: Path,
    *,
    fmt: ThumbnailFormat = "jpg",
    ffmpeg: str = "ffmpeg",
) -> tuple[str, ...]:
    """The clip's first asked frame, taken from the source so it can run beside the cut.

    Reframed like the clip and at most THUMBNAIL_MAX_WIDTH wide. In fast mode it shows
    the frame at the asked start, not the keyframe the copy begins with.
    """
    return plan_still(source, spec.start, seek, output, aspect=spec.aspect, fmt=fmt, ffmpeg=ffmpeg)


def with_landing(argv: tuple[str, ...], source: Probe) -> tuple[str, ...]:
    """``argv`` (a still whose input seek is its frame's time) also printing, as
    framecrc on stdout, the first video packet its input seek lands on: the keyframe a
    stream copy with the same seek starts from (seek.keyframe_from_framecrc reads it).

    One process instead of a second ffprobe beside the cut.
    """
    video = source.video
    assert video is not None
    copy = ["-map", f"0:{video.index}", "-c", "copy", "-frames:v", "1"]
    return (*argv, *copy, "-avoid_negative_ts", "disabled", "-f", "framecrc", "pipe:1")


def plan_still(
    source: Probe,
    at: float,
    seek: SeekPoint,
    output: Path,
    *,
    aspect: ClipAspect = "source",
    fmt: ThumbnailFormat = "jpg",
    ffmpeg: str = "ffmpeg",
) -> tuple[str, ...]:
    """The frame of ``source`` at ``at`` seconds as one picture, reframed to ``aspect``
    and at most THUMBNAIL_MAX_WIDTH wide; ``seek`` is the input seek to reach it from."""
    video = source.video
    if video is None:
        raise InvalidClipRequestError("an audio file has no picture for a thumbnail")
    frame = reframe(video, aspect)
    scale = f"scale=w='min({THUMBNAIL_MAX_WIDTH},iw)':h=-2"
    codec = ["-c:v", "mjpeg", "-q:v", "3"] if fmt == "jpg" else ["-c:v", "png"]
    # One decoding thread: for a single frame, more threads only cost their start-up
    # (and take CPU from the cut this runs beside).
    argv = [*input_args(ffmpeg), "-threads", "1", "-ss", _s(seek.input_seek)]
    argv += ["-i", ffmpeg_url(source.path)]
    if at > seek.input_seek:
        argv += ["-ss", _s(at - seek.input_seek)]
    argv += ["-map", f"0:{video.index}", "-frames:v", "1"]
    argv += ["-filter:v", ",".join(f for f in (frame.filters, scale) if f), *codec]
    argv += ["-fflags", "+bitexact", "-update", "1", "-f", "image2", ffmpeg_url(output)]
    return tuple(argv)


def with_progress(argv: tuple[str, ...], period: float = 0.25) -> tuple[str, ...]:
    """``argv`` reporting progress as key=value lines on stdout (global options)."""
    return (argv[0], "-progress", "pipe:1", "-nostats", "-stats_period", _s(period), *argv[1:])


def _s(seconds: float) -> str:
    return f"{seconds:.6f}"
