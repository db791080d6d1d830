"""Fixtures of the clipper tests: session-made media, a fresh media root and runner per test."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from clipper import ClipLimits, ClipRunner
from tests.media import MediaLibrary


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory) -> MediaLibrary:
    return MediaLibrary(tmp_path_factory.mktemp("clipper-sources"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    media = tmp_path / "media"
    media.mkdir()
    return media


@pytest.fixture
def runner_factory(root: Path) -> Callable[..., ClipRunner]:
    def make(**limits: float) -> ClipRunner:
        return ClipRunner(root, ClipLimits(**limits))  # type: ignore[arg-type]

    return make


@pytest.fixture
def runner(runner_factory: Callable[..., ClipRunner]) -> ClipRunner:
    return runner_factory()


@pytest.fixture
def ffmpeg_pids(tmp_path: Path) -> Callable[[], list[int]]:
    """The ffmpeg/ffprobe processes whose command line names a path of this test."""
    needle = str(tmp_path).encode()

    def find() -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            name = cmdline.split(b"\0")[0]
            if needle in cmdline and name.endswith((b"ffmpeg", b"ffprobe")):
                found.append(int(entry))
        return found

    return find


def is_dead(pid: int, *, reaped: bool = True) -> bool:
    """Whether ``pid`` has exited and, with ``reaped``, left no zombie behind."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return not reaped and state in ("Z", "X")


@pytest.fixture
def dead() -> Callable[..., bool]:
    return is_dead


@pytest.fixture
def partial_files(root: Path) -> Callable[[], list[Path]]:
    """Temporary files of unfinished clips in this test's media root."""

    def find() -> list[Path]:
        partial = root / "clips" / ".partial"
        return sorted(partial.iterdir()) if partial.exists() else []

    return find
