"""Client paths: only plain relative paths pass, and ffmpeg only ever sees file:<absolute>."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipper import UnsafePathError, ffmpeg_url, validate_relative_path


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("video.mp4", "video.mp4"),
        ("a/b/video.mp4", "a/b/video.mp4"),
        ("./a//b/./video.mp4", "a/b/video.mp4"),
        ("-i", "-i"),
        ("--help.mp4", "--help.mp4"),
        ("my video: part 2.mp4", "my video: part 2.mp4"),
        ("café/été.mkv", "café/été.mkv"),
        ("50% off.mp4", "50% off.mp4"),
        ("..video.mp4", "..video.mp4"),
    ],
)
def test_plain_relative_paths_are_accepted_and_normalised(raw: str, clean: str) -> None:
    assert validate_relative_path(raw) == clean


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("  ", "empty"),
        (".", "names no file"),
        ("a/..", r"'\.\.'"),
        ("../secret.mp4", r"'\.\.'"),
        ("a/../../secret.mp4", r"'\.\.'"),
        ("/etc/passwd", "absolute"),
        ("//server/share.mp4", "absolute"),
        ("http://example.com/v.mp4", "protocol"),
        ("HTTPS://example.com/v.mp4", "protocol"),
        ("file:/etc/passwd", "protocol"),
        ("file:video.mp4", "protocol"),
        ("concat:a.mp4|b.mp4", "protocol"),
        ("subfile,,start,0,end,10,,:video.mp4", "protocol"),
        ("crypto+file:video.mp4", "protocol"),
        ("data:video/mp4;base64,AAAA", "protocol"),
        ("c:\\video.mp4", "protocol"),
        ("a\\b.mp4", "separator"),
        ("line\nbreak.mp4", "control"),
        ("nul\x00byte.mp4", "control"),
        ("escape\x1b[2J.mp4", "control"),
        ("del\x7f.mp4", "control"),
        ("line\u2028separator.mp4", "control"),
        ("\u202eevil4pm.mp4", "control"),
        ("zero\u200bwidth.mp4", "control"),
        ("x" * 1025, "longer than 1024"),
        ("x" * 256 + ".mp4", "longer than 255 bytes"),
    ],
)
def test_paths_that_could_escape_or_mislead_are_refused_with_a_reason(
    raw: str, reason: str
) -> None:
    with pytest.raises(UnsafePathError, match=reason) as refused:
        validate_relative_path(raw, field="source.path")

    assert refused.value.field == "source.path"
    assert refused.value.code == "unsafe_path"


def test_ffmpeg_gets_an_absolute_file_url_so_no_name_is_an_option_or_protocol() -> None:
    assert ffmpeg_url(Path("/media/-i")) == "file:/media/-i"
    assert ffmpeg_url(Path("/media/http:x.mp4")) == "file:/media/http:x.mp4"
    with pytest.raises(ValueError, match="absolute"):
        ffmpeg_url(Path("relative.mp4"))
