"""What a media file is, read with ffprobe under a protocol and container allowlist."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from clipper import process
from clipper.errors import (
    ClipTimeoutError,
    EmptyMediaError,
    FfmpegError,
    LimitExceededError,
    MediaNotFoundError,
    PlaylistRefusedError,
    UnsupportedMediaError,
)
from clipper.formats import (
    AV_DEMUXERS,
    IMAGE_DEMUXERS,
    PLAYLIST_DEMUXERS,
    SEEK_TO_PTS_DEMUXERS,
    whitelist,
)
from clipper.limits import ClipLimits
from clipper.paths import ffmpeg_url

MediaKind = Literal["video", "audio", "image"]
_NOT_ON_WHITELIST = re.compile(r"\[([\w-]+) @ 0x[0-9a-f]+\] Format not on whitelist")


@dataclass(frozen=True)
class StreamInfo:
    index: int
    codec_type: str
    codec_name: str
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    sample_aspect_ratio: float = 1.0
    has_b_frames: int = 0
    attached_pic: bool = False
    channels: int | None = None
    sample_rate: int | None = None


@dataclass(frozen=True)
class Probe:
    path: Path
    format_name: str
    size: int
    sha256: str | None
    duration: float | None
    # Where the file's timeline begins (mpegts often starts at 1.4 s); -ss is relative to it.
    start_time: float
    streams: tuple[StreamInfo, ...]

    @property
    def video(self) -> StreamInfo | None:
        """The first real video stream (cover art in an audio file does not count)."""
        return next(
            (s for s in self.streams if s.codec_type == "video" and not s.attached_pic), None
        )

    @property
    def audio(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.codec_type == "audio"), None)

    @property
    def kind(self) -> MediaKind:
        if self.format_name in IMAGE_DEMUXERS:
            return "image"
        return "video" if self.video is not None else "audio"

    @property
    def width(self) -> int | None:
        return self.video.width if self.video else None

    @property
    def height(self) -> int | None:
        return self.video.height if self.video else None

    @property
    def dts_seek_heuristic(self) -> bool:
        """Whether ffmpeg moves an input -ss seek 3/23 s back for this file."""
        return self.format_name not in SEEK_TO_PTS_DEMUXERS and any(
            s.has_b_frames > 0 for s in self.streams
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description for events (asset registration); the caller adds the path."""
        data = asdict(self)
        del data["path"]
        data["kind"] = self.kind
        data["width"], data["height"] = self.width, self.height
        return data


def probe_from_dict(data: dict[str, Any], path: Path) -> Probe:
    """Rebuild a Probe from ``Probe.to_dict()`` (e.g. kept with a registered asset)."""
    fields = {k: v for k, v in data.items() if k not in ("kind", "width", "height")}
    streams = tuple(StreamInfo(**stream) for stream in fields.pop("streams"))
    return Probe(path=path, streams=streams, **fields)


async def probe(
    path: Path,
    limits: ClipLimits,
    *,
    with_sha256: bool = True,
    label: str | None = None,
    ffprobe: str = "ffprobe",
) -> Probe:
    """Describe ``path`` (absolute, already resolved inside the media root) or refuse it.

    Refuses, with a message naming ``label`` (default: the file name): an empty file,
    a file over ``limits.max_source_bytes``, anything ffprobe cannot read as one of the
    allowed containers (playlists and concat lists included, whatever their extension),
    a file with no audio or video stream, a picture over the resolution limits.
    ffprobe runs with ``-protocol_whitelist file`` and ``-format_whitelist``, so it
    never opens a URL or a second file. The sha256 is computed in a worker thread.
    """
    name = label or path.name
    try:
        size = (await asyncio.to_thread(path.stat)).st_size
    except FileNotFoundError as exc:
        raise MediaNotFoundError(f"{name!r} does not exist (any more)") from exc
    if size == 0:
        raise EmptyMediaError(f"{name!r} is an empty file (0 bytes)")
    if size > limits.max_source_bytes:
        raise LimitExceededError(
            f"{name!r} is {size} bytes, over the limit of {limits.max_source_bytes} bytes"
        )
    data = await _ffprobe_json(path, name, limits, ffprobe)
    result = _parse(path, size, data, name)
    width, height = result.width or 0, result.height or 0
    if width > limits.max_width or height > limits.max_height:
        raise LimitExceededError(
            f"{name!r} is {width}x{height}, over the limit of "
            f"{limits.max_width}x{limits.max_height}"
        )
    if with_sha256:
        digest = await asyncio.to_thread(sha256_file, path)
        result = replace(result, sha256=digest)
    return result


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def ffprobe_args(ffprobe: str = "ffprobe") -> list[str]:
    """The options every ffprobe run starts with: quiet, file protocol, known demuxers."""
    return [
        ffprobe,
        "-hide_banner",
        "-loglevel",
        "error",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        whitelist(AV_DEMUXERS + IMAGE_DEMUXERS),
        # image2 would read "x%03d.jpg" as a numbered sequence of other files.
        "-pattern_type",
        "none",
    ]


async def run_ffprobe(argv: list[str], name: str, limits: ClipLimits, *, niceness: int = 0) -> Any:
    """Run an ffprobe command line that prints JSON; map its failures to MediaErrors."""
    try:
        async with asyncio.timeout(limits.probe_timeout_seconds):
            done = await process.run(argv, niceness=niceness)
    except TimeoutError as exc:
        raise ClipTimeoutError(
            f"reading {name!r} took longer than {limits.probe_timeout_seconds:g} s; "
            "the file looks damaged"
        ) from exc
    except ValueError as exc:  # absurd amounts of output
        raise UnsupportedMediaError(f"{name!r} has an unreasonable structure") from exc
    if done.returncode != 0:
        raise _refusal(name, done.stderr)
    try:
        return json.loads(done.stdout)
    except ValueError as exc:
        raise FfmpegError(f"ffprobe printed something that is not JSON for {name!r}") from exc


async def _ffprobe_json(path: Path, name: str, limits: ClipLimits, ffprobe: str) -> Any:
    argv = [
        *ffprobe_args(ffprobe),
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        ffmpeg_url(path),
    ]
    return await run_ffprobe(argv, name, limits)


def _refusal(name: str, stderr: str) -> Exception:
    found = _NOT_ON_WHITELIST.search(stderr)
    if found and found.group(1) in PLAYLIST_DEMUXERS:
        return PlaylistRefusedError(
            f"{name!r} is a playlist or concat list ({found.group(1)}), not a media file; "
            "these make ffmpeg read other files and are refused. Use the media file itself"
        )
    if found:
        return UnsupportedMediaError(
            f"{name!r} is a {found.group(1)} file; accepted are mp4/mov, mkv/webm, avi, "
            "mpeg-ts, flv, ogg, wav, mp3, aac, flac and png/jpeg/webp images"
        )
    return UnsupportedMediaError(f"{name!r} is not a video, audio or image file ffprobe can read")


def _parse(path: Path, size: int, data: Any, name: str) -> Probe:
    fmt = data.get("format") or {}
    format_name = str(fmt.get("format_name", ""))
    if format_name not in AV_DEMUXERS + IMAGE_DEMUXERS:  # the whitelist should make this moot
        raise UnsupportedMediaError(f"{name!r} is a {format_name or 'unknown'} file")
    streams = tuple(_stream(s) for s in data.get("streams") or [])
    if not any(s.codec_type in ("video", "audio") for s in streams):
        raise UnsupportedMediaError(f"{name!r} has neither a video nor an audio stream")
    pictures = [s for s in streams if s.codec_type == "video" and not s.attached_pic]
    if any(not (s.width and s.height) for s in pictures):
        # image2 "reads" any file named *.jpg; a picture nobody can decode has no size.
        raise UnsupportedMediaError(f"{name!r} has a picture ffprobe cannot decode")
    duration = _float(fmt.get("duration"))
    return Probe(
        path=path,
        format_name=format_name,
        size=size,
        sha256=None,
        duration=duration if duration and duration > 0 else None,
        start_time=_float(fmt.get("start_time")) or 0.0,
        streams=streams,
    )


def _stream(raw: dict[str, Any]) -> StreamInfo:
    disposition = raw.get("disposition") or {}
    return StreamInfo(
        index=int(raw["index"]),
        codec_type=str(raw.get("codec_type", "")),
        codec_name=str(raw.get("codec_name", "")),
        width=_int(raw.get("width")),
        height=_int(raw.get("height")),
        fps=_ratio(raw.get("avg_frame_rate")) or _ratio(raw.get("r_frame_rate")),
        sample_aspect_ratio=_ratio(raw.get("sample_aspect_ratio"), sep=":") or 1.0,
        has_b_frames=_int(raw.get("has_b_frames")) or 0,
        attached_pic=bool(disposition.get("attached_pic")),
        channels=_int(raw.get("channels")),
        sample_rate=_int(raw.get("sample_rate")),
    )


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ratio(value: Any, sep: str = "/") -> float | None:
    """ "24000/1001" -> 23.976; "0/0", "N/A" and zero -> None."""
    try:
        num, _, den = str(value).partition(sep)
        ratio = float(Fraction(int(num), int(den)))
    except (ValueError, ZeroDivisionError):
        return None
    return ratio if ratio > 0 else None
