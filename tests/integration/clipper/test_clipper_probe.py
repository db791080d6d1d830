"""Probing describes a media file: container, streams, duration, size and content hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from clipper import ClipLimits, ClipRunner, MediaRoot, UnsupportedMediaError, probe
from tests.media import FPS, HEIGHT, WIDTH, MediaLibrary


async def test_a_video_is_described_down_to_its_streams_and_hash(
    library: MediaLibrary, root: Path
) -> None:
    path = library.put("video.mp4", root)

    found = await probe(MediaRoot(root).resolve("video.mp4"), ClipLimits())

    assert found.kind == "video"
    assert found.format_name == "mov,mp4,m4a,3gp,3g2,mj2"
    assert found.duration == pytest.approx(12.0, abs=0.05)
    assert (found.width, found.height) == (WIDTH, HEIGHT)
    assert found.video is not None and found.video.codec_name == "h264"
    assert found.video.fps == FPS and found.video.has_b_frames > 0
    assert found.audio is not None and found.audio.codec_name == "aac"
    assert found.size == path.stat().st_size
    assert found.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    described = json.loads(json.dumps(found.to_dict()))
    assert described["kind"] == "video" and described["width"] == WIDTH
    assert "path" not in described


@pytest.mark.parametrize(
    ("name", "kind", "format_name"),
    [
        ("video.ts", "video", "mpegts"),
        ("video.mkv", "video", "matroska,webm"),
        ("vp9.webm", "video", "matroska,webm"),
        ("tone.m4a", "audio", "mov,mp4,m4a,3gp,3g2,mj2"),
        ("picture.png", "image", "png_pipe"),
        ("picture.jpg", "image", "image2"),
    ],
)
async def test_each_accepted_kind_of_file_is_recognised(
    library: MediaLibrary, root: Path, name: str, kind: str, format_name: str
) -> None:
    library.put(name, root)

    found = await probe(MediaRoot(root).resolve(name), ClipLimits(), with_sha256=False)

    assert (found.kind, found.format_name, found.sha256) == (kind, format_name, None)


async def test_an_mpegts_timeline_that_does_not_start_at_zero_is_reported(
    library: MediaLibrary, root: Path
) -> None:
    library.put("video.ts", root)

    found = await probe(MediaRoot(root).resolve("video.ts"), ClipLimits())

    assert found.start_time > 1.0
    assert found.dts_seek_heuristic


async def test_the_runner_probes_a_relative_path_and_names_it_in_refusals(
    runner: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    library.put("video.mp4", root, "shows/ep 1.mp4")
    (root / "shows" / "notes.mp4").write_text("no video here")

    found = await runner.probe("shows/ep 1.mp4", with_sha256=False)

    assert found.kind == "video" and found.sha256 is None
    with pytest.raises(UnsupportedMediaError, match=r"'shows/notes\.mp4'"):
        await runner.probe("shows/notes.mp4")
