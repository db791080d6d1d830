"""The shape check of media paths given in requests (the clipper's rules, plain form only)."""

from __future__ import annotations

import pytest

from api.commands.paths import path_problem


@pytest.mark.parametrize(
    "path",
    [
        "a.mp4",
        "uploads/2024/talk.mp4",
        "-starts-with-dash.mp4",
        "with space.mov",
        "dir/colon:inside.mp4",
        "ünïcödé.mp4",
    ],
)
def test_plain_relative_paths_are_accepted(path: str) -> None:
    assert path_problem(path) is None


@pytest.mark.parametrize(
    "path",
    [
        "",
        " ",
        "/abs.mp4",
        "../up.mp4",
        "a/../../b.mp4",
        "http://host/a.mp4",
        "concat:a|b",
        "subfile,,start,0,end,1,,:a.mp4",
        "file:a.mp4",
        "C:/win.mp4",
        "a\\b.mp4",
        "new\nline.mp4",
        "nul\x00.mp4",
        "del\x7f.mp4",
        "bidi\u202e.mp4",
        "x" * 256 + ".mp4",
    ],
)
def test_escapes_protocols_and_control_characters_are_refused(path: str) -> None:
    reason = path_problem(path)
    assert reason is not None
    assert reason  # a message a user can act on


@pytest.mark.parametrize(
    ("path", "plain"), [("./a.mp4", "a.mp4"), ("a//b.mp4", "a/b.mp4"), ("a/", "a")]
)
def test_a_path_the_clipper_would_normalise_is_refused_with_its_plain_form(
    path: str, plain: str
) -> None:
    assert path_problem(path) == f"write the path in its plain form: {plain!r}"
