"""Small pure parts: progress parsing, the seek target ffmpeg uses, limits from settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipper import ClipLimits, Probe, StreamInfo
from clipper.progress import ProgressTracker
from clipper.seek import ffmpeg_seek_target_us, keyframe_from_framecrc
from wavestack.settings import Settings


def test_progress_only_moves_forward_and_stops_short_of_done() -> None:
    tracker = ProgressTracker(expected_seconds=10.0)
    lines = [
        "frame=0", "out_time_us=N/A", "out_time_us=2500000", "total_size=1234",
        "out_time_us=2000000", "out_time_us=2500000", "out_time_us=7500000",
        "progress=continue", "out_time_us=12000000", "progress=end",
    ]  # fmt: skip

    fractions = [f for f in map(tracker.feed, lines) if f is not None]

    assert fractions == [0.25, 0.75, 0.99]
    assert tracker.bytes_written == 1234


def _probe(format_name: str, b_frames: int, start_time: float = 0.0) -> Probe:
    video = StreamInfo(0, "video", "h264", 320, 180, has_b_frames=b_frames)
    return Probe(Path("/m/v"), format_name, 1, None, 10.0, start_time, (video,))


@pytest.mark.parametrize(
    ("format_name", "b_frames", "start_time", "target"),
    [
        ("mov,mp4,m4a,3gp,3g2,mj2", 2, 0.0, 5_000_000),
        ("matroska,webm", 2, 0.0, 5_000_000 - 130_434),
        ("matroska,webm", 0, 0.0, 5_000_000),
        ("mpegts", 2, 1.4, 6_400_000 - 130_434),
    ],
)
def test_the_seek_target_replays_ffmpeg_start_time_and_dts_heuristic(
    format_name: str, b_frames: int, start_time: float, target: int
) -> None:
    assert ffmpeg_seek_target_us(_probe(format_name, b_frames, start_time), 5_000_000) == target


def test_limits_come_from_the_settings_and_must_be_positive() -> None:
    settings = Settings(
        clip_concurrency=3, clip_timeout_seconds=42.0, clip_max_output_bytes=1000,
        clip_max_source_bytes=2000, clip_max_width=640, clip_max_height=480,
    )  # fmt: skip

    limits = ClipLimits.from_settings(settings)

    assert limits == ClipLimits(3, 42.0, 1000, 2000, 640, 480)
    with pytest.raises(ValueError, match="concurrency"):
        ClipLimits(concurrency=0)


FRAMECRC = b"""#extradata 0:       40, 0x05860b88
#software: Lavf59.27.100
#tb 0: 1/12288
#media_type 0: video
#codec_id 0: h264
#dimensions 0: 1920x1080
#sar 0: 1/1
0,     -15974,     -15974,      512,   112076, 0x6b3c42d4
"""


def test_the_landing_keyframe_is_read_from_the_thumbnail_runs_framecrc() -> None:
    # -ss 121.3 landed on the keyframe at 120 s: 15974/12288 s before the seek.
    assert keyframe_from_framecrc(FRAMECRC, 121.3) == pytest.approx(120.0, abs=1e-4)
    assert keyframe_from_framecrc(FRAMECRC.replace(b"-15974", b"0"), 120.0) == 120.0


def test_a_framecrc_without_a_packet_or_time_base_gives_no_keyframe() -> None:
    header_only = FRAMECRC.rsplit(b"\n0,", 1)[0]
    assert keyframe_from_framecrc(header_only, 121.3) is None
    assert keyframe_from_framecrc(FRAMECRC.replace(b"#tb 0: 1/12288\n", b""), 121.3) is None
    assert keyframe_from_framecrc(b"", 1.0) is None
