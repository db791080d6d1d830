"""Clips start and end where they should: accurate to the frame, fast to the keyframe."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipper import ClipRunner, ClipSpec
from tests.media import FPS, GOP, MediaLibrary, ffprobe, frame_number, video_frame_times

FRAME = 1 / FPS
KEYFRAME_INTERVAL = GOP / FPS


@pytest.mark.parametrize("source", ["video.mp4", "video.ts"])
@pytest.mark.parametrize(("start", "duration"), [(3.3, 2.0), (7.05, 1.5)])
async def test_accurate_clip_starts_within_one_frame_of_start_and_lasts_the_duration(
    runner: ClipRunner,
    library: MediaLibrary,
    root: Path,
    source: str,
    start: float,
    duration: float,
) -> None:
    library.put(source, root)

    result = await runner.clip(source, ClipSpec(start, duration, "mp4", "accurate"))

    clip = root / result.path
    first_source_frame = frame_number(clip)
    assert abs(first_source_frame / FPS - start) <= FRAME
    times = video_frame_times(clip)
    assert 0 <= times[0] <= FRAME, "the clip's own timeline starts at 0"
    assert abs(len(times) - duration * FPS) <= 1
    assert abs((times[-1] + FRAME) - duration) <= FRAME  # the end, too, within a frame
    # Frame after frame of the source, none dropped or repeated.
    assert frame_number(clip, len(times) - 1) == first_source_frame + len(times) - 1
    assert (result.actual_start, result.start_offset) == (start, 0.0)


@pytest.mark.parametrize("source", ["video.mp4", "video.mkv", "video.ts"])
@pytest.mark.parametrize("start", [4.1, 5.3, 7.95])
async def test_fast_clip_starts_at_the_keyframe_before_start_and_reports_it(
    runner: ClipRunner, library: MediaLibrary, root: Path, source: str, start: float
) -> None:
    library.put(source, root)

    result = await runner.clip(source, ClipSpec(start, 2.0, "mkv", "fast"))

    first_source_frame = frame_number(root / result.path)
    assert first_source_frame % GOP == 0, "a stream copy starts on a keyframe"
    keyframe_time = first_source_frame / FPS
    assert abs(result.actual_start - keyframe_time) <= FRAME
    assert result.start_offset == pytest.approx(start - result.actual_start)
    # The latest keyframe at or before start: never after it, never a whole GOP early.
    assert 0 <= start - keyframe_time < KEYFRAME_INTERVAL
    assert 0 <= result.start_offset <= KEYFRAME_INTERVAL


async def test_fast_clip_copies_the_source_packets_unchanged(
    runner: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    library.put("video.mp4", root)

    result = await runner.clip("video.mp4", ClipSpec(6.5, 3.0, "mp4", "fast"))

    def packet_hashes(path: Path, interval: str) -> list[str]:
        data = ffprobe(
            path,
            "-select_streams", "v:0", "-show_data_hash", "sha256", "-show_entries",
            "packet=data_hash", "-read_intervals", interval,
        )  # fmt: skip
        return [p["data_hash"] for p in data["packets"]]

    clip_packets = packet_hashes(root / result.path, "%+#24")
    source_packets = packet_hashes(root / "video.mp4", f"{result.actual_start}%+#24")
    assert clip_packets == source_packets
    assert result.lineage["mode"] == "fast"
