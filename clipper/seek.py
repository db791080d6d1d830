"""Where a clip really starts: the keyframe ffmpeg's input seek lands on, found with ffprobe."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from clipper.errors import FfmpegError
from clipper.formats import DTS_HEURISTIC_US, SEEK_TO_PTS_DEMUXERS
from clipper.limits import ClipLimits
from clipper.paths import ffmpeg_url
from clipper.probe import Probe, ffprobe_args, run_ffprobe

US = 1_000_000
# Container timestamps are rounded (Matroska: 1 ms); a keyframe this close counts as "at".
EPSILON_US = 1_000
# How far past the start ffprobe reads to see every keyframe up to the start, even
# with B-frame reordering.
LOOKAHEAD_US = US
MAX_ATTEMPTS = 12


@dataclass(frozen=True)
class SeekPoint:
    """``input_seek`` is the -ss given before -i; ``keyframe`` is where reading starts.

    Both in seconds from the file's start. ``keyframe`` is the first frame ffmpeg keeps
    in stream-copy mode and the first it decodes in re-encode mode; it is at or before
    the asked start unless the file has no keyframe that early.
    """

    input_seek: float
    keyframe: float


@dataclass(frozen=True)
class _Landing:
    first_keyframe_us: int | None
    keyframes_us: tuple[int, ...]


async def find_seek_point(
    probe: Probe, start: float, end: float, *, latest: bool, limits: ClipLimits, ffprobe: str
) -> SeekPoint:
    """Choose the -ss for ``start`` so that ffmpeg lands on a keyframe at or before it.

    ffmpeg's input seek lands on a keyframe before its target, but that target is moved
    by the file's start time and, for some containers, by 3/23 s (the dts heuristic);
    in files without an index (mpeg-ts) the seek can even land *after* the keyframe
    that precedes the target, and then decoding starts at the next one. So we replay
    the very seek ffmpeg will do with ffprobe (-read_intervals uses the same
    avformat_seek_file call) and step back until the landing keyframe is not after
    ``start``. With ``latest`` (stream copy) we then move the seek forward onto the
    last keyframe at or before ``start``, so a fast clip starts as late as it can.
    """
    start_us, end_us = _us(start), _us(end)
    seek_us, step_us = start_us, US
    found: tuple[int, _Landing] | None = None
    for _ in range(MAX_ATTEMPTS):
        landing = await _land(probe, seek_us, start_us, limits, ffprobe)
        first = landing.first_keyframe_us
        if first is not None and first <= start_us + EPSILON_US:
            found = (seek_us, landing)
            break
        if seek_us == 0:
            if first is None:
                raise FfmpegError("the source has no keyframe before the asked start")
            # The file does not begin with a keyframe; copying starts at its first one.
            return SeekPoint(0.0, first / US)
        seek_us, step_us = max(0, seek_us - step_us), step_us * 2
    if found is None:
        raise FfmpegError("could not find a keyframe to start the clip from")
    seek_us, landing = found
    first = landing.first_keyframe_us
    assert first is not None
    if latest:
        best = max((k for k in landing.keyframes_us if k <= start_us + EPSILON_US), default=first)
        if best > first:
            forward_us = best + (DTS_HEURISTIC_US if probe.dts_seek_heuristic else 0)
            # The copy must still end after it begins: -t is measured from the seek.
            if forward_us < end_us - EPSILON_US:
                again = await _land(probe, forward_us, start_us, limits, ffprobe)
                if again.first_keyframe_us == best:
                    seek_us, first = forward_us, best
    return SeekPoint(seek_us / US, first / US)


def predictable_seek(probe: Probe, start: float) -> float | None:
    """The -ss to use when it is known without looking at the file's packets.

    mov/mp4 seek by pts through their index, so ``-ss start`` lands on the last
    keyframe at or before ``start``: ffmpeg can start at once, and the keyframe (only
    needed for the report) can be looked up while it runs.
    """
    return start if probe.format_name in SEEK_TO_PTS_DEMUXERS else None


async def landing_keyframe(
    probe: Probe,
    input_seek: float,
    start: float,
    *,
    limits: ClipLimits,
    ffprobe: str,
    niceness: int = 0,
) -> float:
    """The keyframe ffmpeg starts from with ``-ss input_seek``, in seconds from the file's start."""
    landing = await _land(probe, _us(input_seek), _us(start), limits, ffprobe, niceness)
    if landing.first_keyframe_us is None:
        raise FfmpegError("the source has no keyframe near the asked start")
    return landing.first_keyframe_us / US


def keyframe_from_framecrc(output: bytes, input_seek: float) -> float | None:
    """The keyframe (seconds from the file's start) of ffmpeg's framecrc of the first
    video packet after ``-ss input_seek``; None when the output has no packet line.

    ffmpeg shifts timestamps by the seek and the file's start time, so the packet's
    pts is where it lies relative to ``input_seek``.
    """
    time_base: Fraction | None = None
    for raw in output.decode("ascii", "replace").splitlines():
        line = raw.strip()
        if line.startswith("#tb 0:"):
            num, _, den = line.removeprefix("#tb 0:").strip().partition("/")
            try:
                time_base = Fraction(int(num), int(den))
            except (ValueError, ZeroDivisionError):
                return None
        elif line and not line.startswith("#") and time_base is not None:
            fields = [f.strip() for f in line.split(",")]
            try:
                pts = int(fields[2])
            except (IndexError, ValueError):
                return None
            return round(input_seek + float(pts * time_base), 6)
    return None


def ffmpeg_seek_target_us(probe: Probe, seek_us: int) -> int:
    """The timestamp fftools passes to avformat_seek_file for ``-ss seek`` on input."""
    target = seek_us + _us(probe.start_time)
    if probe.dts_seek_heuristic:
        target -= DTS_HEURISTIC_US
    return target


async def _land(
    probe: Probe, seek_us: int, start_us: int, limits: ClipLimits, ffprobe: str, niceness: int = 0
) -> _Landing:
    """Replay ffmpeg's seek for ``-ss seek_us`` and list the keyframes up to ``start``."""
    stream = probe.video or probe.audio
    assert stream is not None  # probe() refuses files without either
    origin_us = _us(probe.start_time)
    target = ffmpeg_seek_target_us(probe, seek_us)
    until = origin_us + start_us + LOOKAHEAD_US
    argv = [
        *ffprobe_args(ffprobe),
        "-select_streams",
        str(stream.index),
        "-show_entries",
        "packet=pts_time,flags",
        "-print_format",
        "json",
        "-read_intervals",
        f"{_seconds(target)}%{_seconds(until)}",
        ffmpeg_url(probe.path),
    ]
    data = await run_ffprobe(argv, probe.path.name, limits, niceness=niceness)
    keyframes: list[int] = []
    for packet in data.get("packets") or []:
        pts = packet.get("pts_time")
        if pts is None or "K" not in str(packet.get("flags", "")):
            continue
        keyframes.append(_us(float(pts)) - origin_us)
    return _Landing(keyframes[0] if keyframes else None, tuple(keyframes))


def _us(seconds: float) -> int:
    return round(seconds * US)


def _seconds(us: int) -> str:
    sign = "-" if us < 0 else ""
    whole, frac = divmod(abs(us), US)
    return f"{sign}{whole}.{frac:06d}"
