"""The media agent's pure parts: probe → MediaInfo, lineage, progress throttle, sweep timing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from clipper import ClipResult, Probe, StreamInfo
from schemas.catalog import Topics
from schemas.media import ResolvedSource
from streams.media.agent import EventAgent, EventHandler
from streams.media.jobs import Job, Jobs
from streams.media.lineage import lineage, media_info
from streams.media.progress import ProgressReporter
from streams.media.sweeper import GRACE_SECONDS, stale_after, sweep_interval

SHA = "d" * 64


def probed(*streams: StreamInfo, sha256: str | None = SHA) -> Probe:
    return Probe(
        path=Path("/media/in/video.mp4"),
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        size=4096,
        sha256=sha256,
        duration=12.0,
        start_time=0.0,
        streams=streams,
    )


VIDEO = StreamInfo(index=0, codec_type="video", codec_name="h264", width=320, height=180, fps=24)
AUDIO = StreamInfo(index=1, codec_type="audio", codec_name="aac", channels=1, sample_rate=48000)
TIMECODE = StreamInfo(index=2, codec_type="tmcd", codec_name="none")


def test_a_probe_becomes_media_info_with_its_streams_and_digest() -> None:
    info = media_info(probed(VIDEO, AUDIO))
    assert (info.container, info.duration_s, info.size_bytes, info.sha256) == (
        "mov,mp4,m4a,3gp,3g2,mj2",
        12.0,
        4096,
        SHA,
    )
    assert (info.width, info.height) == (320, 180)
    assert [(s.type, s.codec) for s in info.streams] == [("video", "h264"), ("audio", "aac")]
    assert (info.streams[1].channels, info.streams[1].sample_rate) == (1, 48000)


def test_a_stream_of_a_type_the_log_does_not_name_is_recorded_as_unknown() -> None:
    info = media_info(probed(VIDEO, TIMECODE))
    assert [s.type for s in info.streams] == ["video", "unknown"]


def test_a_probe_without_a_digest_takes_the_one_already_known() -> None:
    assert media_info(probed(VIDEO, sha256=None), sha256="e" * 64).sha256 == "e" * 64
    with pytest.raises(ValueError, match="sha256"):
        media_info(probed(VIDEO, sha256=None))


def test_the_lineage_names_the_source_asset_range_settings_and_ffmpeg() -> None:
    asset = uuid.uuid4()
    result = ClipResult(
        path="clips/ab/" + "a" * 64 + ".webm",
        format="webm",
        mode="accurate",
        aspect="1:1",
        duration=3.0,
        size=1000,
        sha256="a" * 64,
        width=180,
        height=180,
        actual_start=2.5,
        start_offset=0.0,
        thumbnail=None,
        lineage={
            "source": {"path": "in/video.mp4", "sha256": SHA, "size": 4096, "duration": 12.0},
            "range": {"start": 2.5, "duration": 3.0},
            "ffmpeg_version": "7.1.1",
        },
        output=probed(VIDEO),
    )
    found = lineage(result, ResolvedSource(asset_id=asset, path="in/./video.mp4", sha256=SHA))
    assert found.source_asset_id == asset
    assert (found.source_path, found.source_sha256) == ("in/video.mp4", SHA)
    assert (found.start_s, found.duration_s) == (2.5, 3.0)
    assert (found.mode, found.aspect, found.format, found.ffmpeg_version) == (
        "accurate",
        "1:1",
        "webm",
        "7.1.1",
    )


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_progress_is_reported_at_once_then_at_most_once_a_second() -> None:
    sent: list[float] = []
    clock = Clock()

    async def report(fraction: float) -> None:
        sent.append(fraction)

    reporter = ProgressReporter(report, clock=clock)
    await reporter(0.1)
    clock.now += 0.5
    await reporter(0.2)
    clock.now += 0.6
    await reporter(0.3)
    clock.now += 0.2
    await reporter(0.4)
    clock.now += 5
    await reporter(1.0)
    assert sent == [0.1, 0.3]


def test_a_temp_file_is_stale_only_after_the_longest_a_job_may_hold_it() -> None:
    assert stale_after(600) == 600 + GRACE_SECONDS
    assert sweep_interval(3600) == 300.0  # capped: an orphan should not linger for long
    assert sweep_interval(0.5) == 5.0
    assert sweep_interval(30) == pytest.approx((30 + GRACE_SECONDS) / 4)


class MemoryTable:
    """A partition of ``media_jobs`` without its changelog (the wiring is tested elsewhere)."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.values.get(key)

    async def put(self, key: str, value: bytes, bound: Any) -> None:
        self.values[key] = value


async def test_a_job_never_seen_has_no_attempt_and_a_stored_one_reads_back_as_stored() -> None:
    table = MemoryTable()
    jobs = Jobs(table)
    assert jobs.get("clip-1") == Job(attempt=0, done=False)
    await jobs.put("clip-1", Job(attempt=2, done=True), None)
    assert Job.model_validate_json(table.values["clip-1"]) == Job(attempt=2, done=True)
    assert jobs.get("clip-1") == Job(attempt=2, done=True)


class Ours(EventHandler):
    name = "ours"
    handles = frozenset({"clip.ClipRequested"})


@pytest.mark.parametrize(
    ("value", "someone_elses"),
    [
        (b"\x00 not json", False),
        (json.dumps({"type": "clip.ClipRequested"}).encode(), False),
        (json.dumps({"no": "type"}).encode(), False),
        (json.dumps({"type": "queue.ItemEnqueued"}).encode(), True),
        (json.dumps({"type": "future.SomethingNew"}).encode(), True),
    ],
)
def test_only_unreadable_messages_that_may_be_ours_are_the_agents_poison(
    value: bytes, someone_elses: bool
) -> None:
    agent = EventAgent(None, Topics("p"), [Ours(None, Topics("p"))])
    assert agent._someone_elses(value) is someone_elses


@pytest.mark.parametrize(
    ("headers", "wanted"),
    [
        ([("type", b"clip.ClipRequested")], True),
        ([("type", b"queue.ItemEnqueued")], False),
        ([("other", b"x"), ("type", b"queue.ItemEnqueued")], False),
        ([], True),  # no header (older records): parsed to know
    ],
)
def test_an_event_is_passed_by_its_type_header_before_it_is_parsed(
    headers: list[tuple[str, bytes]], wanted: bool
) -> None:
    agent = EventAgent(None, Topics("p"), [Ours(None, Topics("p"))])
    assert agent.wanted(headers) is wanted
