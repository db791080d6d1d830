"""Every output format and aspect gives a playable file of the right shape, with a thumbnail."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from clipper import ClipRunner, ClipSpec, InvalidClipRequestError
from clipper.probe import probe_from_dict
from schemas.commands import ClipAspect, ClipFormat, ClipMode
from tests.media import HEIGHT, WIDTH, MediaLibrary, decodes_cleanly, ffprobe

ASPECTS = {"source": Fraction(WIDTH, HEIGHT), "9:16": Fraction(9, 16), "1:1": Fraction(1)}
ASPECTS["16:9"] = Fraction(16, 9)
CODECS = {
    "mp4": ("h264", "aac"),
    "mov": ("h264", "aac"),
    "mkv": ("h264", "aac"),
    "webm": ("vp9", "opus"),
}


def streams(path: Path) -> dict[str, dict[str, Any]]:
    data = ffprobe(path, "-show_streams")
    return {s["codec_type"]: s for s in data["streams"]}


@pytest.mark.parametrize("aspect", list(ASPECTS))
@pytest.mark.parametrize("fmt", list(CODECS))
async def test_every_format_and_aspect_makes_a_playable_file_of_that_shape(
    runner: ClipRunner, library: MediaLibrary, root: Path, fmt: ClipFormat, aspect: ClipAspect
) -> None:
    library.put("video.mp4", root)

    result = await runner.clip("video.mp4", ClipSpec(2.0, 1.0, fmt, "accurate", aspect))

    clip = root / result.path
    assert result.path == f"clips/{result.sha256[:2]}/{result.sha256}.{fmt}"
    assert result.output.path == clip and result.output.sha256 == result.sha256
    assert result.output.size == result.size == clip.stat().st_size
    assert decodes_cleanly(clip)
    found = streams(clip)
    assert (found["video"]["codec_name"], found["audio"]["codec_name"]) == CODECS[fmt]
    width, height = int(found["video"]["width"]), int(found["video"]["height"])
    assert (width, height) == (result.width, result.height)
    assert width % 2 == 0 and height % 2 == 0
    if aspect == "source":
        assert (width, height) == (WIDTH, HEIGHT)
    else:
        assert Fraction(width, height) == ASPECTS[aspect]
        assert width <= WIDTH and height <= HEIGHT, "reframing crops, it never upscales"
    assert result.thumbnail is not None
    thumb = streams(root / result.thumbnail)["video"]
    assert thumb["codec_name"] == "mjpeg"
    assert abs(Fraction(int(thumb["width"]), int(thumb["height"])) - Fraction(width, height)) < 0.05


@pytest.mark.parametrize("fmt", ["mp4", "mov", "mkv"])
async def test_fast_mode_copies_h264_into_every_container_that_holds_it(
    runner: ClipRunner, library: MediaLibrary, root: Path, fmt: ClipFormat
) -> None:
    library.put("video.mp4", root)

    result = await runner.clip("video.mp4", ClipSpec(1.0, 2.0, fmt, "fast"))

    assert decodes_cleanly(root / result.path)
    found = streams(root / result.path)
    assert (found["video"]["codec_name"], found["audio"]["codec_name"]) == ("h264", "aac")


async def test_fast_webm_from_h264_is_refused_with_the_way_out(
    runner: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    library.put("video.mp4", root)

    with pytest.raises(InvalidClipRequestError, match="mode=accurate") as refused:
        await runner.clip("video.mp4", ClipSpec(1.0, 2.0, "webm", "fast"))

    assert refused.value.field == "format"
    assert not (root / "clips").exists() or not any((root / "clips").rglob("*.webm"))


async def test_fast_webm_from_a_vp9_source_is_a_plain_copy(
    runner: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    library.put("vp9.webm", root)

    result = await runner.clip("vp9.webm", ClipSpec(2.5, 2.0, "webm", "fast"))

    assert decodes_cleanly(root / result.path)
    found = streams(root / result.path)
    assert (found["video"]["codec_name"], found["audio"]["codec_name"]) == ("vp9", "opus")
    assert 0 <= result.start_offset <= 2.0


@pytest.mark.parametrize("mode", ["fast", "accurate"])
async def test_an_audio_source_gives_an_audio_clip_without_thumbnail(
    runner: ClipRunner, library: MediaLibrary, root: Path, mode: ClipMode
) -> None:
    library.put("tone.m4a", root)

    result = await runner.clip("tone.m4a", ClipSpec(1.0, 3.0, "mp4", mode))

    assert set(streams(root / result.path)) == {"audio"}
    assert result.thumbnail is None and result.width is None
    assert result.duration == pytest.approx(3.0, abs=0.05)
    assert abs(result.start_offset) < 0.05, "every audio packet is a keyframe"


async def test_a_video_without_sound_gives_a_silent_clip(
    runner: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    library.put("silent.mp4", root)

    result = await runner.clip("silent.mp4", ClipSpec(0.5, 2.0, "webm", "accurate", "1:1"))

    assert set(streams(root / result.path)) == {"video"}
    assert (result.width, result.height) == (HEIGHT, HEIGHT)


async def test_the_same_request_twice_gives_the_same_bytes_at_the_same_path(
    runner: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    library.put("video.mp4", root)
    spec = ClipSpec(3.2, 1.5, "mp4", "accurate", "9:16")

    first = await runner.clip("video.mp4", spec)
    second = await runner.clip("video.mp4", spec)

    assert (first.path, first.sha256, first.thumbnail) == (
        second.path,
        second.sha256,
        second.thumbnail,
    )
    assert sorted(p.name for p in (root / "clips").rglob("*") if p.is_file()) == sorted(
        [Path(first.path).name, Path(first.thumbnail or "").name]
    )


async def test_the_lineage_names_source_range_settings_and_ffmpeg(
    runner: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    source = library.put("video.mp4", root, "sub dir/my video.mp4")

    result = await runner.clip(
        "sub dir/my video.mp4", ClipSpec(1.25, 2.0, "mov", "accurate", "1:1")
    )

    lineage = result.lineage
    assert lineage["source"]["path"] == "sub dir/my video.mp4"
    assert lineage["source"]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert lineage["range"] == {"start": 1.25, "duration": 2.0}
    assert (lineage["mode"], lineage["aspect"], lineage["format"]) == ("accurate", "1:1", "mov")
    assert lineage["ffmpeg_version"].startswith(("5.", "6.", "7."))
    assert "{source}" in lineage["ffmpeg_args"] and "{output}" in lineage["ffmpeg_args"]
    assert not any(str(root) in arg for arg in lineage["ffmpeg_args"])


async def test_a_registered_probe_spares_reading_the_source_again_while_its_size_holds(
    runner: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    library.put("video.mp4", root)
    stored = (await runner.probe("video.mp4")).to_dict()
    registered = probe_from_dict({**stored, "sha256": "ab" * 32}, root / "video.mp4")
    spec = ClipSpec(1.0, 1.0, "mp4", "fast")

    trusted = await runner.clip("video.mp4", spec, registered=registered)
    (root / "video.mp4").write_bytes((root / "video.mp4").read_bytes() + b"\0")
    reprobed = await runner.clip("video.mp4", spec, registered=registered)

    assert trusted.lineage["source"]["sha256"] == "ab" * 32
    changed = hashlib.sha256((root / "video.mp4").read_bytes()).hexdigest()
    assert reprobed.lineage["source"]["sha256"] == changed
    assert reprobed.lineage["source"]["size"] == stored["size"] + 1
