"""Test media made with ffmpeg's lavfi sources: numbered frames, a tone, known keyframes.

Every video frame carries its own number as a barcode in the bottom strip (bit k of
the frame number is band k, white = 1), so a test can tell exactly which source frame
a clip starts with, through any container or re-encode that keeps the picture.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

FPS = 24
GOP = 48  # a keyframe every 2 s, nothing else: -keyint_min GOP -sc_threshold 0
WIDTH, HEIGHT = 320, 180
BARCODE_BITS = 10
BARCODE_HEIGHT = 32

_PICTURE = (
    f"testsrc2=size={WIDTH}x{HEIGHT - BARCODE_HEIGHT}:rate={FPS},format=yuv420p[top];"
    f"color=c=black:size={WIDTH}x{BARCODE_HEIGHT}:rate={FPS},format=yuv420p,"
    f"geq=lum='255*mod(floor(N/pow(2,floor(X*{BARCODE_BITS}/W))),2)':cb=128:cr=128[code];"
    "[top][code]vstack"
)
_H264 = [
    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
    "-g", str(GOP), "-keyint_min", str(GOP), "-sc_threshold", "0",
]  # fmt: skip


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True
    )


def make_video(path: Path, seconds: float = 12.0, *, audio: bool = True) -> Path:
    """H.264 (+ AAC tone) in the container that ``path``'s extension names."""
    args = ["-f", "lavfi", "-i", _PICTURE]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    args += ["-t", str(seconds), *_H264]
    if audio:
        args += ["-c:a", "aac", "-b:a", "96k"]
    ffmpeg(*args, str(path))
    return path


def make_vp9(path: Path, seconds: float = 6.0) -> Path:
    ffmpeg(
        "-f", "lavfi", "-i", _PICTURE,
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", str(seconds), "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
        "-g", str(GOP), "-c:a", "libopus", str(path),
    )  # fmt: skip
    return path


def make_audio(path: Path, seconds: float = 8.0) -> Path:
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", str(seconds), str(path)
    )
    return path


def make_image(path: Path) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}", "-frames:v", "1", str(path))
    return path


def remux(source: Path, path: Path) -> Path:
    ffmpeg("-i", str(source), "-c", "copy", str(path))
    return path


def loop(source: Path, path: Path, times: int) -> Path:
    """A long source in no time: the same packets ``times`` over, stream-copied."""
    ffmpeg("-stream_loop", str(times - 1), "-i", str(source), "-c", "copy", str(path))
    return path


def frame_number(path: Path, index: int = 0) -> int:
    """The source frame number shown by the ``index``-th video frame of ``path``."""
    raw = subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
            "-map", "0:V:0", "-vf", f"select=eq(n\\,{index})", "-frames:v", "1",
            "-f", "rawvideo", "-pix_fmt", "gray", "-",
        ],
        check=True,
        capture_output=True,
    ).stdout  # fmt: skip
    assert len(raw) == WIDTH * HEIGHT, f"expected one {WIDTH}x{HEIGHT} frame, got {len(raw)} bytes"
    row = (HEIGHT - BARCODE_HEIGHT // 2) * WIDTH
    bits = [raw[row + int((bit + 0.5) * WIDTH / BARCODE_BITS)] > 128 for bit in range(BARCODE_BITS)]
    return sum(1 << bit for bit, on in enumerate(bits) if on)


def ffprobe(path: Path, *args: str) -> Any:
    """ffprobe's JSON for ``path`` (a test's own check, independent of the clipper)."""
    out = subprocess.run(
        [
            "ffprobe",
            "-hide_banner",
            "-loglevel",
            "error",
            "-print_format",
            "json",
            *args,
            str(path),
        ],
        check=True,
        capture_output=True,
    ).stdout
    return json.loads(out)


def video_frame_times(path: Path) -> list[float]:
    data = ffprobe(path, "-select_streams", "V:0", "-show_entries", "frame=pts_time")
    return [float(f["pts_time"]) for f in data["frames"] if "pts_time" in f]


def decodes_cleanly(path: Path) -> bool:
    """Every stream has frames and every frame decodes without a single error message."""
    done = subprocess.run(
        [
            "ffprobe", "-hide_banner", "-v", "error", "-count_frames", "-print_format", "json",
            "-show_entries", "stream=nb_read_frames", str(path),
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    if done.returncode != 0 or done.stderr.strip():
        return False
    counts = [int(s.get("nb_read_frames", 0)) for s in json.loads(done.stdout)["streams"]]
    return bool(counts) and all(n > 0 for n in counts)


class MediaLibrary:
    """Sources made once per test session, copied into each test's media root."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._made: dict[str, Path] = {}

    def get(self, name: str) -> Path:
        if name not in self._made:
            self._made[name] = self._make(name, self.directory / name)
        return self._made[name]

    def put(self, name: str, root: Path, as_name: str | None = None) -> Path:
        target = root / (as_name or name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.get(name), target)
        return target

    def _make(self, name: str, path: Path) -> Path:
        match name:
            case "video.mp4":
                return make_video(path)
            case "video.mkv" | "video.ts" | "video.mov":
                return remux(self.get("video.mp4"), path)
            case "silent.mp4":
                return make_video(path, 4.0, audio=False)
            case "vp9.webm":
                return make_vp9(path)
            case "tone.m4a":
                return make_audio(path)
            case "long.mp4":
                return loop(self.get("video.mp4"), path, 20)
            case "picture.png" | "picture.jpg":
                return make_image(path)
        raise KeyError(f"no recipe for test media {name!r}")
