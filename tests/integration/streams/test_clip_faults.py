"""Clips under faults: a job over its time limit, and a worker SIGKILLed while ffmpeg runs."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from streams.media.sweeper import stale_after, sweep_interval
from tests.integration.streams.helpers import Stack, send_commands
from tests.integration.streams.media_support import (
    clip_end,
    first,
    of,
    org,
    output_asset_id,
    request_clip,
    space_of,
    temp_files,
)
from tests.media import MediaLibrary, decodes_cleanly
from wavestack.settings import Settings

# Long enough for the accurate re-encode below (about 5 s here), short enough that
# the sweeper finds the killed attempt's temp file stale within a minute.
KILL_TEST_TIMEOUT = 30.0


def ffmpeg_processes(media_root: Path) -> list[int]:
    """ffmpeg processes working on files under ``media_root``."""
    needle = str(media_root).encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if any(arg.endswith(b"ffmpeg") for arg in argv[:5]) and needle in b" ".join(argv):
            found.append(int(entry))
    return found


async def eventually(condition: object, timeout: float, what: str) -> None:
    assert callable(condition)
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.5)


async def test_a_clip_over_the_time_limit_fails_with_a_clear_reason_and_leaves_no_files(
    base_settings: Settings, tmp_path: Path, sources: MediaLibrary
) -> None:
    stack = await Stack.start(base_settings, tmp_path, clip_timeout_seconds=0.5)
    try:
        tenant = org()
        sources.put("long.mp4", space_of(stack, tenant) / "in")
        clip = request_clip(
            tenant, "slow", "in/long.mp4", start=0.0, duration=120.0, mode="accurate"
        )
        await send_commands(stack.settings, [clip])
        failed = await clip_end(stack, clip)
    finally:
        assert await stack.stop() == 0, stack.output()
    assert (failed.type, failed.data["code"]) == ("clip.ClipFailed", "timeout")
    assert "took longer than the limit of 0.5 s" in failed.data["reason"]
    assert of(stack.events, "asset.AssetRegistered", output_asset_id(clip)) == []
    assert temp_files(stack.settings.media_root) == []
    assert not list((space_of(stack, tenant) / "clips").glob("??/*"))


@pytest.mark.slow
async def test_a_worker_killed_during_ffmpeg_finishes_the_clip_once_after_a_restart(
    base_settings: Settings, tmp_path: Path, sources: MediaLibrary
) -> None:
    stack = await Stack.start(base_settings, tmp_path, clip_timeout_seconds=KILL_TEST_TIMEOUT)
    media = stack.settings.media_root
    tenant = org()
    space = space_of(stack, tenant)
    try:
        sources.put("long.mp4", space / "in")
        clip = request_clip(
            tenant, "killed", "in/long.mp4", start=10.0, duration=200.0, mode="accurate"
        )
        await send_commands(stack.settings, [clip])
        await first(stack, "clip.ClipStarted", clip.aggregate_id)
        # Progress comes from ffmpeg itself: it is cutting right now.
        await first(stack, "clip.ClipProgressed", clip.aggregate_id)
        assert ffmpeg_processes(media), "ffmpeg should be running"
        await stack.media.kill()
        assert of(stack.events, "clip.ClipCompleted", clip.aggregate_id) == []
        # ffmpeg dies with its worker (the clipper sets a parent-death signal)...
        await eventually(lambda: not ffmpeg_processes(media), 10, "ffmpeg gone after the kill")
        # ...and leaves its half-written file behind.
        orphans = temp_files(media)
        assert orphans

        await stack.media.restart()
        completed = await clip_end(stack, clip, timeout=120)
        assert completed.type == "clip.ClipCompleted", completed.data
        await first(stack, "asset.AssetRegistered", output_asset_id(clip))
        # The sweeper removes the orphan once no running job can still own it.
        patience = stale_after(KILL_TEST_TIMEOUT) + 2 * sweep_interval(KILL_TEST_TIMEOUT)
        await eventually(lambda: not temp_files(media), patience, "no temp files left")
        await asyncio.sleep(1.0)  # let re-sent copies of the last decisions arrive too
    finally:
        assert await stack.stop() == 0, stack.output()

    starts = of(stack.events, "clip.ClipStarted", clip.aggregate_id)
    assert [s.data["attempt"] for s in starts] == [1, 2]
    assert len(of(stack.events, "clip.ClipCompleted", clip.aggregate_id)) == 1
    assert len(of(stack.events, "asset.AssetRegistered", output_asset_id(clip))) == 1
    outputs = [p for p in (space / "clips").glob("??/*") if ".thumb." not in p.name]
    assert [p.relative_to(space).as_posix() for p in outputs] == [completed.data["path"]]
    assert decodes_cleanly(outputs[0])
    assert all(not p.exists() for p in orphans)
    assert "stale_temp_files_removed" in stack.media.output()


@pytest.mark.slow
async def test_a_worker_stopped_during_ffmpeg_stops_at_once_and_redoes_the_clip_after_a_restart(
    base_settings: Settings, tmp_path: Path, sources: MediaLibrary
) -> None:
    stack = await Stack.start(base_settings, tmp_path)
    media = stack.settings.media_root
    tenant = org()
    try:
        sources.put("long.mp4", space_of(stack, tenant) / "in")
        clip = request_clip(
            tenant, "stopped", "in/long.mp4", start=10.0, duration=200.0, mode="accurate"
        )
        await send_commands(stack.settings, [clip])
        await first(stack, "clip.ClipProgressed", clip.aggregate_id)
        began = asyncio.get_running_loop().time()
        code = await stack.media.stop(timeout=60)
        took = asyncio.get_running_loop().time() - began
        # Cancelled, not waited for: ffmpeg is stopped and its files removed at once.
        assert code == 0, stack.media.output()[-3000:]
        assert took < 10, f"stopping took {took:.1f} s"
        assert not ffmpeg_processes(media)
        assert temp_files(media) == []
        assert of(stack.events, "clip.ClipCompleted", clip.aggregate_id) == []

        await stack.media.start()
        await stack.media.ready()
        completed = await clip_end(stack, clip, timeout=120)
        await first(stack, "asset.AssetRegistered", output_asset_id(clip))
    finally:
        assert await stack.stop() == 0, stack.output()
    assert completed.type == "clip.ClipCompleted", completed.data
    starts = of(stack.events, "clip.ClipStarted", clip.aggregate_id)
    assert [s.data["attempt"] for s in starts] == [1, 2]
