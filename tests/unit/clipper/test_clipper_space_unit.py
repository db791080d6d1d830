"""Organization spaces: one directory per org, a safe name, resolution kept inside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clipper import MediaNotFoundError, UnsafePathError, validate_relative_path
from clipper.paths import MediaRoot, is_space_dir, space_dir


@pytest.mark.parametrize(
    "org", ["org-a", "../../etc", "a/b", "x\x00y", "-rf", ".", "..", "é" * 255, "Org-A"]
)
def test_every_org_id_maps_to_one_plain_fixed_length_directory_name(org: str) -> None:
    name = space_dir(org)
    assert is_space_dir(name)
    assert len(name) == 68 and "/" not in name and name not in (".", "..")
    assert validate_relative_path(name) == name


def test_distinct_org_ids_get_distinct_spaces_even_when_an_escape_would_collide() -> None:
    orgs = ["org-a", "org-A", "org_a", "org%2Da", "org-a ", "org-a/"]
    assert len({space_dir(org) for org in orgs}) == len(orgs)


def test_an_empty_org_id_has_no_space() -> None:
    with pytest.raises(ValueError, match="never empty"):
        space_dir("")


def test_a_space_resolves_only_its_own_files(tmp_path: Path) -> None:
    media = MediaRoot(tmp_path)
    a, b = media.space("org-a"), media.space("org-b")
    for space, content in ((a, b"a"), (b, b"b")):
        space.root.mkdir()
        (space.root / "v.mp4").write_bytes(content)
    assert a.resolve("v.mp4").read_bytes() == b"a"
    assert b.resolve("v.mp4").read_bytes() == b"b"
    os.symlink(b.root / "v.mp4", a.root / "theirs.mp4")
    with pytest.raises(UnsafePathError, match="outside"):
        a.resolve("theirs.mp4")
    (tmp_path / "shared.mp4").write_bytes(b"root")
    with pytest.raises(UnsafePathError):
        a.resolve("../shared.mp4")
    with pytest.raises(MediaNotFoundError):
        a.resolve("shared.mp4")


def test_the_uploads_working_folder_is_never_a_client_path() -> None:
    with pytest.raises(UnsafePathError, match="uploads in progress"):
        validate_relative_path(".uploads/0123.part")
    assert validate_relative_path("x/.uploads/a.mp4") == "x/.uploads/a.mp4"


def test_spaces_lists_only_real_space_directories(tmp_path: Path) -> None:
    media = MediaRoot(tmp_path)
    media.space("org-a").root.mkdir()
    (tmp_path / "clips").mkdir()
    os.symlink(tmp_path / "clips", tmp_path / space_dir("org-b"))
    assert [s.root for s in media.spaces()] == [media.space("org-a").root]
