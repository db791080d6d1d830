"""The ffmpeg command lines the clipper builds, checked option by option."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from clipper import ClipSpec, InvalidClipRequestError, Probe, StreamInfo, plan_clip, plan_thumbnail
from clipper.plan import reframe, with_progress
from clipper.seek import SeekPoint
from schemas.commands import ClipAspect

VIDEO = StreamInfo(
    index=0, codec_type="video", codec_name="h264", width=1920, height=1080, fps=24.0
)
AUDIO = StreamInfo(index=1, codec_type="audio", codec_name="aac", channels=6)
SOURCE = Probe(
    path=Path("/media/-source.mp4"),
    format_name="mov,mp4,m4a,3gp,3g2,mj2",
    size=1000,
    sha256=None,
    duration=600.0,
    start_time=0.0,
    streams=(VIDEO, AUDIO),
)
OUT = Path("/media/clips/.partial/x.mp4.partial")


def option(argv: tuple[str, ...], name: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == name]


def test_fast_mode_seeks_before_the_input_and_copies_up_to_the_asked_end() -> None:
    plan = plan_clip(
        SOURCE,
        ClipSpec(62.5, 30.0, "mp4", "fast"),
        SeekPoint(62.5, 61.0),
        OUT,
        max_output_bytes=10**6,
    )

    argv = plan.argv
    assert argv.index("-ss") < argv.index("-i")
    assert option(argv, "-i") == ["file:/media/-source.mp4"]
    assert option(argv, "-ss") == ["62.500000"]
    assert option(argv, "-t") == ["30.000000"]
    assert option(argv, "-c") == ["copy"]
    assert option(argv, "-avoid_negative_ts") == ["make_zero"]
    assert option(argv, "-map") == ["0:0", "0:1"]
    assert option(argv, "-fs") == ["1000000"]
    assert option(argv, "-movflags") == ["+faststart"]
    assert argv[-3:] == ("-f", "mp4", f"file:{OUT}")
    assert (plan.actual_start, plan.start_offset) == (61.0, 1.5)
    assert plan.expected_duration == pytest.approx(31.5)


def test_every_run_is_locked_to_local_files_and_plain_containers() -> None:
    plan = plan_clip(
        SOURCE, ClipSpec(1.0, 2.0, "mkv", "accurate"), SeekPoint(1.0, 0.0), OUT, max_output_bytes=1
    )

    argv = plan.argv
    assert argv[0] == "ffmpeg" and "-nostdin" in argv and "-hide_banner" in argv
    assert option(argv, "-protocol_whitelist") == ["file"]
    whitelist = option(argv, "-format_whitelist")[0].split(",")
    assert "mov" in whitelist and not {"hls", "dash", "concat", "image2"} & set(whitelist)
    assert argv.index("-protocol_whitelist") < argv.index("-i")
    assert all(a.startswith("file:/") for a in (*option(argv, "-i"), argv[-1]))


def test_accurate_mode_reencodes_exactly_the_asked_range() -> None:
    plan = plan_clip(
        SOURCE,
        ClipSpec(62.5, 10.0, "mov", "accurate"),
        SeekPoint(61.5, 60.0),
        OUT,
        max_output_bytes=1,
    )

    argv = plan.argv
    # The first -ss seeks the input; the second drops the frames up to the asked start.
    assert option(argv, "-ss") == ["61.500000", "1.000000"]
    assert option(argv, "-t") == ["10.000000"]
    assert option(argv, "-c:v") == ["libx264"] and option(argv, "-c:a") == ["aac"]
    assert option(argv, "-pix_fmt") == ["yuv420p"]
    assert option(argv, "-movflags") == ["+faststart"]
    assert option(argv, "-fps_mode:v") == ["vfr"]
    assert (plan.actual_start, plan.start_offset, plan.expected_duration) == (62.5, 0.0, 10.0)


def test_webm_is_vp9_and_opus_in_stereo_without_faststart() -> None:
    plan = plan_clip(
        SOURCE, ClipSpec(0.0, 5.0, "webm", "accurate"), SeekPoint(0.0, 0.0), OUT, max_output_bytes=1
    )

    argv = plan.argv
    assert option(argv, "-c:v") == ["libvpx-vp9"] and option(argv, "-c:a") == ["libopus"]
    assert option(argv, "-ac") == ["2"]
    assert option(argv, "-movflags") == []
    assert option(argv, "-ss") == ["0.000000"]
    assert argv[-3:-1] == ("-f", "webm")


@pytest.mark.parametrize(
    ("size", "aspect", "expected"),
    [
        ((1920, 1080), "9:16", (594, 1056)),
        ((1920, 1080), "1:1", (1080, 1080)),
        ((1920, 1080), "16:9", (1920, 1080)),
        ((1080, 1920), "16:9", (1056, 594)),
        ((320, 180), "9:16", (90, 160)),
        ((321, 181), "source", (320, 180)),
        ((1280, 720), "source", (1280, 720)),
    ],
)
def test_reframing_centre_crops_to_an_exact_even_ratio_without_upscaling(
    size: tuple[int, int], aspect: ClipAspect, expected: tuple[int, int]
) -> None:
    stream = StreamInfo(
        index=0, codec_type="video", codec_name="h264", width=size[0], height=size[1]
    )

    frame = reframe(stream, aspect)

    assert (frame.width, frame.height) == expected
    assert frame.width % 2 == 0 and frame.height % 2 == 0
    assert frame.width <= size[0] and frame.height <= size[1]
    if aspect != "source":
        ratio = [int(n) for n in aspect.split(":")]
        assert Fraction(frame.width, frame.height) == Fraction(ratio[0], ratio[1])
    if expected == size:
        assert frame.filters is None
    else:
        x, y = (size[0] - expected[0]) // 2, (size[1] - expected[1]) // 2
        assert frame.filters == f"crop={expected[0]}:{expected[1]}:{x}:{y},setsar=1"


def test_non_square_pixels_are_made_square_before_cropping() -> None:
    anamorphic = StreamInfo(
        index=0, codec_type="video", codec_name="h264", width=720, height=576,
        sample_aspect_ratio=64 / 45,
    )  # fmt: skip

    frame = reframe(anamorphic, "1:1")

    assert frame.filters == "scale=1024:576,crop=576:576:224:0,setsar=1"


def test_a_picture_too_small_for_the_ratio_is_refused() -> None:
    tiny = StreamInfo(index=0, codec_type="video", codec_name="h264", width=16, height=16)

    with pytest.raises(InvalidClipRequestError, match="too small"):
        reframe(tiny, "9:16")


def test_the_thumbnail_is_the_asked_start_frame_reframed_like_the_clip() -> None:
    spec = ClipSpec(62.5, 10.0, "mp4", "accurate", "1:1")

    argv = plan_thumbnail(SOURCE, spec, SeekPoint(61.5, 60.0), Path("/media/t.jpg.partial"))

    assert option(argv, "-ss") == ["61.500000", "1.000000"]
    assert option(argv, "-i") == ["file:/media/-source.mp4"]
    assert option(argv, "-map") == ["0:0"]
    assert option(argv, "-frames:v") == ["1"]
    assert option(argv, "-filter:v") == ["crop=1080:1080:420:0,setsar=1,scale=w='min(640,iw)':h=-2"]
    assert option(argv, "-update") == ["1"] and option(argv, "-c:v") == ["mjpeg"]
    assert argv[-1] == "file:/media/t.jpg.partial"
    png = plan_thumbnail(SOURCE, spec, SeekPoint(62.5, 60.0), Path("/t.png"), fmt="png")
    assert option(png, "-c:v") == ["png"] and option(png, "-ss") == ["62.500000"]


def test_progress_options_are_added_as_global_options_only_when_running() -> None:
    bare = ("ffmpeg", "-hide_banner", "-i", "file:/a.mp4", "file:/b.mp4")

    assert with_progress(bare) == (
        "ffmpeg", "-progress", "pipe:1", "-nostats", "-stats_period", "0.250000", *bare[1:],
    )  # fmt: skip
