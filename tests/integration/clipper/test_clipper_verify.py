"""A fast clip is checked from ffmpeg's own final report: damage after ffmpeg wrote it shows.

The output is not probed again (a stream copy is described by its source's probe), so
these tests damage the file between ffmpeg's exit and our checks, with an ffmpeg that
runs the real one and then cuts its output short.
"""

from __future__ import annotations

import stat
import textwrap
from pathlib import Path

import pytest

from clipper import ClipLimits, ClipRunner, ClipSpec
from clipper.errors import FfmpegError
from clipper.probe import probe
from tests.media import MediaLibrary, ffprobe


def damaging_ffmpeg(directory: Path, how: str) -> Path:
    """An ffmpeg that runs the real one and then applies ``how`` to a clip it wrote
    (thumbnails and -version runs are left alone)."""
    script = directory / "damaging-ffmpeg"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            ffmpeg "$@" || exit $?
            for last; do :; done
            out="${{last#file:}}"
            case "$out" in
                *.mp4.partial|*.mkv.partial) {how} "$out" ;;
            esac
            """
        )
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def leftovers(root: Path) -> list[Path]:
    clips = root / "clips"
    return sorted(p for p in clips.rglob("*") if p.is_file()) if clips.exists() else []


@pytest.mark.parametrize("fmt", ["mp4", "mkv"])
async def test_a_clip_cut_short_after_ffmpeg_wrote_it_is_refused_and_never_published(
    library: MediaLibrary, root: Path, tmp_path: Path, fmt: str
) -> None:
    library.put("video.mp4", root)
    ffmpeg = damaging_ffmpeg(tmp_path, "truncate -s -4096")
    runner = ClipRunner(root, ClipLimits(), ffmpeg=str(ffmpeg))

    with pytest.raises(FfmpegError, match="cut short or changed") as refused:
        await runner.clip("video.mp4", ClipSpec(1.0, 4.0, fmt, "fast"))  # type: ignore[arg-type]

    assert str(root) not in refused.value.message
    assert leftovers(root) == [], "neither the clip nor its thumbnail nor a temp file"


async def test_the_damage_is_one_a_probe_of_the_output_would_not_have_seen(
    runner: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    """Why the check is the byte count: a faststart mp4 keeps its index at the front,
    so the probe the runner used to make of its output still reads a clip whose last
    packets are gone, duration, picture and all."""
    library.put("video.mp4", root)
    good = await runner.clip("video.mp4", ClipSpec(1.0, 4.0, "mp4", "fast"))
    damaged = root / "damaged.mp4"
    damaged.write_bytes((root / good.path).read_bytes()[:-4096])

    probed = await probe(damaged, ClipLimits(), with_sha256=False)

    assert probed.duration is not None and probed.duration > 3
    assert probed.video is not None and probed.audio is not None


async def test_an_emptied_clip_is_refused(
    library: MediaLibrary, root: Path, tmp_path: Path
) -> None:
    library.put("video.mp4", root)
    runner = ClipRunner(root, ClipLimits(), ffmpeg=str(damaging_ffmpeg(tmp_path, ": >")))

    with pytest.raises(FfmpegError):
        await runner.clip("video.mp4", ClipSpec(1.0, 2.0, "mp4", "fast"))

    assert leftovers(root) == []


async def test_an_undamaged_fast_clip_is_described_like_a_probe_of_it_would(
    runner: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    library.put("video.mp4", root)

    result = await runner.clip("video.mp4", ClipSpec(5.3, 2.0, "mp4", "fast"))

    data = ffprobe(root / result.path, "-show_format", "-show_streams")
    probed = {s["codec_type"]: s for s in data["streams"]}
    described = {s.codec_type: s for s in result.output.streams}
    assert [s.index for s in result.output.streams] == [0, 1]
    for kind in ("video", "audio"):
        assert described[kind].codec_name == probed[kind]["codec_name"]
        assert described[kind].index == probed[kind]["index"]
    assert (result.width, result.height) == (probed["video"]["width"], probed["video"]["height"])
    assert result.output.format_name == data["format"]["format_name"]
    assert result.size == int(data["format"]["size"]) == (root / result.path).stat().st_size
    # ffprobe counts the last frame's length and the audio's tail; within a frame or two.
    assert result.duration == pytest.approx(float(data["format"]["duration"]), abs=0.25)
