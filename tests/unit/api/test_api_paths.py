"""The shape check of media paths given in requests."""

from __future__ import annotations

import pytest

from api.commands.paths import local_path_problem


@pytest.mark.parametrize(
    "path", ["a.mp4", "uploads/2024/talk.mp4", "-starts-with-dash.mp4", "with space.mov"]
)
def test_plain_relative_paths_are_accepted(path: str) -> None:
    assert local_path_problem(path) is None


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/abs.mp4",
        "../up.mp4",
        "a/../../b.mp4",
        "a//b.mp4",
        "./a.mp4",
        "a/.",
        "http://host/a.mp4",
        "concat:a|b",
        "subfile,,start,0,end,1,,:a.mp4",
        "file:a.mp4",
        "C:/win.mp4",
        "a\\b.mp4",
        "new\nline.mp4",
        "nul\x00.mp4",
        "del\x7f.mp4",
    ],
)
def test_escapes_protocols_and_control_characters_are_refused(path: str) -> None:
    reason = local_path_problem(path)
    assert reason is not None
    assert reason  # a message a user can act on
