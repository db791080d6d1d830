"""Clip requests: what is refused at once, and what is refused against the probed source."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from clipper import (
    ClipSpec,
    InvalidClipRequestError,
    MediaError,
    Probe,
    RangeError,
    StreamInfo,
    UnsupportedMediaError,
)
from clipper import errors as clipper_errors
from schemas.commands import ClipSource, RequestClip

H264 = StreamInfo(index=0, codec_type="video", codec_name="h264", width=320, height=180)
AAC = StreamInfo(index=1, codec_type="audio", codec_name="aac")


def source(*streams: StreamInfo, duration: float | None = 60.0, fmt: str = "mpegts") -> Probe:
    return Probe(Path("/m/s.ts"), fmt, 10, None, duration, 0.0, streams)


def test_a_spec_follows_the_request_command_including_end_instead_of_duration() -> None:
    command = RequestClip(
        source=ClipSource(asset_id=uuid.uuid4()), start=5, end=12.5, format="webm",
        mode="accurate", aspect="9:16",
    )  # fmt: skip

    spec = ClipSpec.from_command(command)

    assert spec == ClipSpec(5.0, 7.5, "webm", "accurate", "9:16")
    assert spec.end == 12.5


def test_reframing_in_fast_mode_is_refused_at_once_pointing_to_accurate() -> None:
    with pytest.raises(InvalidClipRequestError, match="needs mode=accurate") as refused:
        ClipSpec(0, 10, "mp4", "fast", "9:16")

    assert refused.value.field == "aspect"


@pytest.mark.parametrize(
    ("start", "duration", "field"),
    [
        (-1.0, 5.0, "start"),
        (float("inf"), 5.0, "start"),
        (float("nan"), 5.0, "start"),
        (0.0, 0.0, "duration"),
        (0.0, 3600.5, "duration"),
        (0.0, float("nan"), "duration"),
    ],
)
def test_impossible_numbers_are_refused_naming_the_field(
    start: float, duration: float, field: str
) -> None:
    with pytest.raises(RangeError) as refused:
        ClipSpec(start, duration)

    assert refused.value.field == field


def test_unknown_formats_modes_and_aspects_are_refused() -> None:
    with pytest.raises(InvalidClipRequestError, match="format must be one of mp4, mov, webm, mkv"):
        ClipSpec(0, 1, "avi")  # type: ignore[arg-type]
    with pytest.raises(InvalidClipRequestError, match="mode"):
        ClipSpec(0, 1, "mp4", "slow")  # type: ignore[arg-type]
    with pytest.raises(InvalidClipRequestError, match="aspect"):
        ClipSpec(0, 1, "mp4", "accurate", "4:3")  # type: ignore[arg-type]


def test_a_range_up_to_the_very_end_of_the_source_is_fine() -> None:
    ClipSpec(50.0, 10.0).check_against(source(H264, AAC))
    ClipSpec(50.0, 10.0005).check_against(source(H264, AAC))


def test_a_range_past_the_end_says_how_long_the_source_is_and_what_fits() -> None:
    with pytest.raises(RangeError, match=r"60\.000 s long\); from 55\.000 s at most 5\.000 s"):
        ClipSpec(55.0, 10.0).check_against(source(H264, AAC))


def test_sources_without_duration_or_picture_cannot_do_what_needs_them() -> None:
    with pytest.raises(UnsupportedMediaError, match="only video and audio"):
        ClipSpec(0, 1).check_against(source(H264, duration=None))
    with pytest.raises(InvalidClipRequestError, match="audio only"):
        ClipSpec(0, 1, "mp4", "accurate", "1:1").check_against(source(AAC))


@pytest.mark.parametrize(
    ("fmt", "streams", "refused"),
    [
        ("webm", (H264, AAC), "h264/aac"),
        ("mov", (StreamInfo(0, "video", "vp9", 320, 180), AAC), "vp9"),
        ("mp4", (H264, StreamInfo(1, "audio", "vorbis")), "vorbis"),
    ],
)
def test_fast_mode_refuses_codecs_the_container_cannot_hold(
    fmt: str, streams: tuple[StreamInfo, ...], refused: str
) -> None:
    with pytest.raises(InvalidClipRequestError, match=f"cannot hold {refused}; use mode=accurate"):
        ClipSpec(0, 1, fmt, "fast").check_against(source(*streams))  # type: ignore[arg-type]


def test_fast_mode_into_mkv_takes_any_codec() -> None:
    exotic = StreamInfo(0, "video", "prores", 320, 180)

    ClipSpec(0, 1, "mkv", "fast").check_against(source(exotic, StreamInfo(1, "audio", "pcm_s24le")))


def test_every_error_has_its_own_stable_code() -> None:
    classes = [
        c
        for c in vars(clipper_errors).values()
        if isinstance(c, type) and issubclass(c, MediaError)
    ]
    codes = [c.code for c in classes]

    assert len(classes) >= 12
    assert len(set(codes)) == len(codes)
    assert all(code.replace("_", "").isalpha() and code.islower() for code in codes)
