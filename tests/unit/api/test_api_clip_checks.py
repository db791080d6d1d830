"""Checks of a clip request that need no file: the clipper's rules and the asset's length."""

from __future__ import annotations

from typing import Any

import pytest

from api.commands.clips import check_range, check_request
from api.problems import Problem
from api.reads.content import content_type
from schemas.commands import RequestClip


def clip(**fields: Any) -> RequestClip:
    return RequestClip.model_validate({"source": {"path": "a.mp4"}, **fields})


def refusal(exc: pytest.ExceptionInfo[Problem]) -> tuple[int, list[Any], str]:
    [error] = exc.value.errors or []
    return exc.value.status, error["loc"], error["msg"]


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"start": 60, "duration": 1}, ["body", "start"]),
        ({"start": 59, "duration": 2}, ["body", "duration"]),
        ({"start": 59, "end": 61}, ["body", "end"]),
    ],
)
def test_a_range_past_the_assets_end_names_the_field_and_the_length(
    fields: dict[str, float], loc: list[str]
) -> None:
    with pytest.raises(Problem) as exc:
        check_range(clip(**fields), 60.0)
    status, got_loc, msg = refusal(exc)
    assert (status, got_loc) == (422, loc)
    assert "60.000 s long" in msg


def test_a_range_ending_exactly_at_the_end_is_accepted_despite_float_noise() -> None:
    check_range(clip(start=0.1, end=0.3), 0.1 + 0.2)  # 0.30000000000000004


def test_a_client_sent_resolved_source_is_refused() -> None:
    command = clip(start=0, duration=1, resolved_source={"path": "a.mp4"})
    with pytest.raises(Problem) as exc:
        check_request(command)
    assert refusal(exc)[:2] == (422, ["body", "resolved_source"])


def test_reframing_needs_accurate_mode() -> None:
    with pytest.raises(Problem) as exc:
        check_request(clip(start=0, duration=1, mode="fast", aspect="1:1"))
    assert refusal(exc)[:2] == (422, ["body", "aspect"])
    check_request(clip(start=0, duration=1, mode="accurate", aspect="1:1"))


@pytest.mark.parametrize(
    ("path", "container", "expected"),
    [
        ("a.mp4", None, "video/mp4"),
        ("a.WEBM", None, "video/webm"),
        ("a.mkv", "matroska,webm", "video/x-matroska"),
        ("noext", "mov,mp4,m4a,3gp,3g2,mj2", "video/mp4"),
        ("a.mp3", "mp3", "audio/mpeg"),
        ("page.html", None, "application/octet-stream"),
        ("image.svg", "svg_pipe", "application/octet-stream"),
    ],
)
def test_the_content_type_comes_from_the_extension_then_the_container(
    path: str, container: str | None, expected: str
) -> None:
    assert content_type(path, container) == expected
