"""Hostile input is refused, and nothing outside the media root is ever opened."""

from __future__ import annotations

import errno
import os
import subprocess
import time
from pathlib import Path

import pytest

from clipper import (
    ClipLimits,
    ClipRunner,
    ClipSpec,
    EmptyMediaError,
    LimitExceededError,
    MediaNotFoundError,
    MediaRoot,
    PlaylistRefusedError,
    RangeError,
    ToolMissingError,
    UnsafePathError,
    UnsupportedMediaError,
    probe,
)
from tests.media import MediaLibrary, decodes_cleanly

SPEC = ClipSpec(1.0, 2.0, "mp4", "fast")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the media root holding a FIFO: opening it to read would block."""
    directory = tmp_path / "outside"
    directory.mkdir()
    os.mkfifo(directory / "secret.ts")
    (directory / "plain.mp4").write_bytes(b"not for you")
    return directory


@pytest.fixture
def toolless(root: Path, tmp_path: Path) -> ClipRunner:
    """A runner whose ffmpeg/ffprobe do not exist: any attempt to run one would fail loudly."""
    return ClipRunner(
        root, ClipLimits(), ffmpeg=str(tmp_path / "no-ffmpeg"), ffprobe=str(tmp_path / "no-ffprobe")
    )


def has_reader(fifo: Path) -> bool:
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        assert exc.errno == errno.ENXIO
        return False
    os.close(fd)
    return True


@pytest.mark.parametrize(
    "path",
    [
        "../outside/plain.mp4",
        "a/../../outside/plain.mp4",
        "/etc/passwd",
        "http://127.0.0.1:9/video.mp4",
        "concat:video.mp4|video.mp4",
        "subfile,,start,0,end,100,,:video.mp4",
        "file:/etc/passwd",
        "file:video.mp4",
        "pipe:0",
        "new\nline.mp4",
        "carriage\rreturn.mp4",
        "tab\tname.mp4",
        "\u202eevil4pm.mp4",
        "",
        "   ",
        "..\\outside\\plain.mp4",
        "C:\\video.mp4",
    ],
)
async def test_paths_that_escape_or_name_a_protocol_are_refused_before_any_tool_runs(
    toolless: ClipRunner, library: MediaLibrary, root: Path, path: str
) -> None:
    library.put("video.mp4", root)

    with pytest.raises(UnsafePathError) as refused:
        await toolless.clip(path, SPEC)

    assert refused.value.code == "unsafe_path"
    assert refused.value.field == "source.path"


async def test_an_absolute_path_to_the_outside_is_refused(
    toolless: ClipRunner, outside: Path
) -> None:
    with pytest.raises(UnsafePathError, match="relative to the media root"):
        await toolless.clip(str(outside / "plain.mp4"), SPEC)


@pytest.mark.parametrize("link", ["link.mp4", "linked-dir/secret.ts"])
async def test_a_symlink_out_of_the_root_is_refused_without_opening_its_target(
    toolless: ClipRunner, root: Path, outside: Path, link: str
) -> None:
    (root / "link.mp4").symlink_to(outside / "secret.ts")
    (root / "linked-dir").symlink_to(outside)

    with pytest.raises(UnsafePathError, match="outside the media root"):
        await toolless.clip(link, SPEC)

    assert not has_reader(outside / "secret.ts")


async def test_a_symlink_that_stays_inside_the_root_is_followed(
    runner: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    library.put("video.mp4", root, "masters/video.mp4")
    (root / "alias.mp4").symlink_to(root / "masters" / "video.mp4")

    result = await runner.clip("alias.mp4", SPEC)

    assert result.lineage["source"]["path"] == "masters/video.mp4"


PLAYLISTS = {
    "hls": "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n{secret}\n"
    "#EXT-X-ENDLIST\n",
    "concat": "ffconcat version 1.0\nfile video.mp4\nfile video.mp4\n",
    "dash": '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" '
    'profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" type="static" '
    'mediaPresentationDuration="PT10S"><Period><AdaptationSet mimeType="video/mp2t">'
    '<Representation id="1" bandwidth="1000"><BaseURL>{secret}</BaseURL></Representation>'
    "</AdaptationSet></Period></MPD>\n",
}


@pytest.mark.parametrize("kind", list(PLAYLISTS))
async def test_a_playlist_renamed_mp4_is_refused_without_reading_what_it_names(
    library: MediaLibrary, root: Path, outside: Path, kind: str
) -> None:
    library.put("video.mp4", root)
    (root / "innocent.mp4").write_text(PLAYLISTS[kind].format(secret=outside / "secret.ts"))
    runner = ClipRunner(root, ClipLimits(probe_timeout_seconds=5))

    started = time.monotonic()
    with pytest.raises(PlaylistRefusedError, match=kind) as refused:
        await runner.clip("innocent.mp4", SPEC)

    assert refused.value.code == "playlist_refused"
    assert time.monotonic() - started < 5, "refused at once, not after blocking on the FIFO"
    assert not has_reader(outside / "secret.ts")
    assert str(root) not in refused.value.message


def test_without_the_container_allowlist_ffprobe_would_open_the_playlist_target(
    root: Path, outside: Path
) -> None:
    """The control for the test above: the FIFO trap does catch an opened playlist."""
    playlist = root / "innocent.mp4"
    playlist.write_text(PLAYLISTS["hls"].format(secret=outside / "secret.ts"))
    unsafe = subprocess.Popen(
        ["ffprobe", "-v", "quiet", "-protocol_whitelist", "file", f"file:{playlist}"],
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        # Checked once per turn: our probe's open-and-close hands ffprobe an EOF.
        while not (opened := has_reader(outside / "secret.ts")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened
    finally:
        unsafe.kill()
        unsafe.wait()


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", EmptyMediaError),
        (b"just some text\nthat looks like nothing\n", UnsupportedMediaError),
        (bytes(range(256)) * 64, UnsupportedMediaError),
    ],
)
async def test_files_that_are_not_media_are_refused(
    runner: ClipRunner, root: Path, content: bytes, error: type[Exception]
) -> None:
    (root / "thing.mp4").write_bytes(content)

    with pytest.raises(error):
        await runner.clip("thing.mp4", SPEC)


async def test_a_directory_a_fifo_or_a_missing_file_is_not_a_source(
    toolless: ClipRunner, root: Path
) -> None:
    (root / "folder.mp4").mkdir()
    os.mkfifo(root / "pipe.mp4")

    with pytest.raises(UnsupportedMediaError, match="not a regular file"):
        await toolless.clip("folder.mp4", SPEC)
    with pytest.raises(UnsupportedMediaError, match="not a regular file"):
        await toolless.clip("pipe.mp4", SPEC)
    with pytest.raises(MediaNotFoundError):
        await toolless.clip("missing.mp4", SPEC)


async def test_an_image_is_not_something_to_clip(
    runner: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    library.put("picture.png", root)

    with pytest.raises(UnsupportedMediaError, match="only video and audio"):
        await runner.clip("picture.png", SPEC)


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (
            ClipSpec(10.0, 5.0),
            "duration",
            "ends after the source .12.000 s long.; .* at most 2.000 s",
        ),
        (ClipSpec(12.5, 1.0), "start", "not before the end of the source .12.000 s long."),
    ],
)
async def test_a_range_beyond_the_end_is_refused_naming_the_source_duration(
    runner: ClipRunner, library: MediaLibrary, root: Path, spec: ClipSpec, field: str, message: str
) -> None:
    library.put("video.mp4", root)

    with pytest.raises(RangeError, match=message) as refused:
        await runner.clip("video.mp4", spec)

    assert refused.value.field == field
    assert not (root / "clips").exists()


@pytest.mark.parametrize("name", ["-i", "-y.mp4", "-f lavfi -i testsrc", "clip é ✓ 1.mp4"])
async def test_a_name_that_looks_like_an_option_is_just_a_file_name(
    runner: ClipRunner, library: MediaLibrary, root: Path, name: str
) -> None:
    library.put("video.mp4", root, name)

    result = await runner.clip(name, ClipSpec(1.0, 1.0, "mp4", "accurate"))

    assert decodes_cleanly(root / result.path)
    assert result.lineage["source"]["path"] == name
    assert sorted(p.name for p in root.iterdir()) == sorted(["clips", name])


async def test_a_percent_in_an_image_name_is_not_read_as_a_numbered_sequence(
    library: MediaLibrary, root: Path
) -> None:
    library.put("picture.jpg", root, "shot001.jpg")
    (root / "shot%03d.jpg").write_text("not a picture: if this is probed as a sequence,")

    path = MediaRoot(root).resolve("shot%03d.jpg")

    with pytest.raises(UnsupportedMediaError):
        await probe(path, ClipLimits())
    picture = await probe(MediaRoot(root).resolve("shot001.jpg"), ClipLimits())
    assert picture.kind == "image"


async def test_sources_over_the_size_or_resolution_limit_are_refused(
    library: MediaLibrary, root: Path
) -> None:
    path = library.put("video.mp4", root)

    with pytest.raises(LimitExceededError, match="over the limit of 1000 bytes"):
        await probe(path, ClipLimits(max_source_bytes=1000))
    with pytest.raises(LimitExceededError, match="320x180, over the limit of 160x4320"):
        await probe(path, ClipLimits(max_width=160))


async def test_a_missing_ffmpeg_is_reported_as_the_machines_fault(
    toolless: ClipRunner, library: MediaLibrary, root: Path
) -> None:
    library.put("video.mp4", root)

    with pytest.raises(ToolMissingError, match="no-ffprobe is not installed") as missing:
        await toolless.clip("video.mp4", SPEC)

    assert missing.value.user_fault is False
