"""ffmpeg's final report: what it proves about the file, and a stream copy described from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipper import Probe, StreamInfo
from clipper.errors import FfmpegError
from clipper.plan import ClipPlan
from clipper.progress import ProgressTracker
from clipper.verify import check_report, copied_output, copy_duration

VIDEO = StreamInfo(3, "video", "h264", 1920, 1080, fps=24.0)
AUDIO = StreamInfo(5, "audio", "aac", channels=2, sample_rate=48000)
SOURCE = Probe(
    Path("/m/s.mp4"), "mov,mp4,m4a,3gp,3g2,mj2", 9, "ab" * 32, 600.0, 0.0, (AUDIO, VIDEO)
)
FINAL = [
    "frame=1440", "total_size=98989104", "out_time_us=60010667", "progress=continue",
    "frame=1440", "total_size=98989104", "out_time_us=60010667", "progress=end",
]  # fmt: skip


def report(lines: list[str]) -> ProgressTracker:
    tracker = ProgressTracker(expected_seconds=60.0)
    for line in lines:
        tracker.feed(line)
    return tracker


def test_the_final_report_gives_the_size_frames_and_time_of_the_finished_file() -> None:
    final = report(FINAL)

    assert (final.ended, final.bytes_written, final.frames) == (True, 98989104, 1440)
    assert final.out_time_us == 60010667
    assert not report(FINAL[:4]).ended, "a block that says continue is not the last one"


def test_a_complete_report_matching_the_file_passes() -> None:
    check_report(report(FINAL), 98989104, SOURCE)


@pytest.mark.parametrize(
    ("lines", "size", "reason"),
    [
        (FINAL[:4], 98989104, "without finishing"),
        (FINAL, 98989104 - 4096, "cut short or changed"),
        (FINAL, 98989104 + 1, "cut short or changed"),
        (["frame=0", "total_size=0", "out_time_us=0", "progress=end"], 0, "empty clip"),
        (["frame=0", *FINAL[5:]], 98989104, "without the expected streams"),
    ],
)
def test_an_unfinished_short_or_pictureless_cut_is_refused(
    lines: list[str], size: int, reason: str
) -> None:
    with pytest.raises(FfmpegError, match=reason):
        check_report(report(lines), size, SOURCE)


def test_an_audio_source_needs_no_video_frames() -> None:
    audio_only = Probe(Path("/m/a.m4a"), "mov,mp4,m4a,3gp,3g2,mj2", 9, None, 8.0, 0.0, (AUDIO,))

    check_report(report(["total_size=500", "out_time_us=3000000", "progress=end"]), 500, audio_only)


def test_a_copy_is_the_source_streams_renumbered_and_lasts_from_its_keyframe() -> None:
    plan = ClipPlan(("ffmpeg",), 61.0, 119.0, 1.0, None, input_seek=120.0)

    out = copied_output(SOURCE, "mkv", plan, report(FINAL), Path("/m/out.mkv"))

    assert [(s.index, s.codec_type, s.codec_name) for s in out.streams] == [
        (0, "video", "h264"),
        (1, "audio", "aac"),
    ]
    assert (out.format_name, out.size, out.width, out.height) == (
        "matroska,webm",
        98989104,
        1920,
        1080,
    )
    # ffmpeg counts from the seek at 120 s; the copy starts at the keyframe at 119 s.
    assert out.duration == pytest.approx(61.010667)
    assert copy_duration(report(FINAL), plan) == out.duration
