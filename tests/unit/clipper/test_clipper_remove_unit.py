"""Removing a deleted asset's file: the name in the space, never what it points to or outside."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipper.paths import MediaRoot
from clipper.store import remove_from


@pytest.fixture
def space(tmp_path: Path) -> MediaRoot:
    (tmp_path / "space" / "in").mkdir(parents=True)
    return MediaRoot(tmp_path / "space")


def test_a_file_in_the_space_is_removed_once(space: MediaRoot) -> None:
    video = space.root / "in" / "a.mp4"
    video.write_bytes(b"x")
    assert remove_from(space, "in/a.mp4") is True
    assert not video.exists()
    assert remove_from(space, "in/a.mp4") is False  # a repeat finds nothing


def test_a_link_is_removed_but_not_its_target(space: MediaRoot) -> None:
    target = space.root / "in" / "kept.mp4"
    target.write_bytes(b"keep me")
    (space.root / "in" / "link.mp4").symlink_to(target)
    assert remove_from(space, "in/link.mp4") is True
    assert target.read_bytes() == b"keep me"


@pytest.mark.parametrize("name", ["../outside.mp4", "/etc/hostname", "out/a.mp4", "in"])
def test_nothing_outside_the_space_or_not_a_file_is_removed(
    space: MediaRoot, tmp_path: Path, name: str
) -> None:
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"x")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "a.mp4").write_bytes(b"x")
    (space.root / "out").symlink_to(tmp_path / "elsewhere")  # a directory link leading out
    assert remove_from(space, name) is False
    assert outside.exists() and (tmp_path / "elsewhere" / "a.mp4").exists()
    assert (space.root / "in").is_dir()
