"""A source is read and hashed once per media process, and again as soon as it changes."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from clipper import ClipLimits
from streams.media.sources import KnownSources
from tests.media import make_video


@pytest.fixture
def ffprobe_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Puts an ffprobe first on PATH that notes each run, then runs the real one."""
    tools = tmp_path / "tools"
    tools.mkdir()
    log = tmp_path / "ffprobe-runs"
    log.touch()
    wrapper = tools / "ffprobe"
    real = next(
        Path(d) / "ffprobe"
        for d in os.environ["PATH"].split(os.pathsep)
        if (Path(d) / "ffprobe").is_file()
    )
    wrapper.write_text(f'#!/bin/sh\necho run >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    return log


def runs(log: Path) -> int:
    return len(log.read_text().splitlines())


async def test_an_unchanged_source_is_not_read_again_and_a_changed_one_is(
    tmp_path: Path, ffprobe_runs: Path
) -> None:
    source = make_video(tmp_path / "talk.mp4", seconds=2.0)
    known = KnownSources()

    first = await known.probe(source, ClipLimits(), label="talk.mp4")
    again = await known.probe(source, ClipLimits(), label="talk.mp4")

    assert runs(ffprobe_runs) == 1
    assert again == first and first.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    with source.open("r+b") as f:  # the same size, other bytes
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 0xFF]))
    changed = await known.probe(source, ClipLimits(), label="talk.mp4")
    assert runs(ffprobe_runs) == 2
    assert changed.sha256 == hashlib.sha256(source.read_bytes()).hexdigest() != first.sha256


async def test_a_file_put_in_place_of_the_source_is_read_afresh(
    tmp_path: Path, ffprobe_runs: Path
) -> None:
    source = make_video(tmp_path / "talk.mp4", seconds=2.0)
    other = make_video(tmp_path / "other.mp4", seconds=3.0)
    known = KnownSources()
    first = await known.probe(source, ClipLimits(), label="talk.mp4")

    other.replace(source)
    second = await known.probe(source, ClipLimits(), label="talk.mp4")

    assert runs(ffprobe_runs) == 2
    assert second.sha256 != first.sha256 and second.size == source.stat().st_size
    assert len(known) == 1
