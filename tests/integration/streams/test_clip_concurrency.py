"""Clips in parallel: several run at once, and a SIGKILL among them loses or doubles none."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.integration.streams.helpers import Stack, TopicReader, send_commands
from tests.integration.streams.media_support import (
    clip_end,
    first,
    of,
    org,
    output_asset_id,
    request_clip,
    space_of,
)
from tests.integration.streams.test_clip_faults import KILL_TEST_TIMEOUT, ffmpeg_processes
from tests.media import MediaLibrary
from wavestack.settings import Settings

CLIPS = 4
CONCURRENCY = 2


@pytest.mark.slow
async def test_four_clips_killed_mid_run_each_end_once_succeeded_after_a_restart(
    base_settings: Settings, tmp_path: Path, sources: MediaLibrary
) -> None:
    stack = await Stack.start(
        base_settings,
        tmp_path,
        clip_timeout_seconds=KILL_TEST_TIMEOUT,
        clip_concurrency=CONCURRENCY,
    )
    tenant = org()
    space = space_of(stack, tenant)
    try:
        sources.put("long.mp4", space / "in")
        # Distinct ranges: outputs are content-addressed, so each clip has its own file.
        clips = [
            request_clip(
                tenant,
                f"parallel-{i}",
                "in/long.mp4",
                start=10.0 * i,
                duration=180.0,
                mode="accurate",
            )
            for i in range(CLIPS)
        ]
        await send_commands(stack.settings, clips)

        def progressing(r: TopicReader) -> list[int]:
            return [i for i, c in enumerate(clips) if of(r, "clip.ClipProgressed", c.aggregate_id)]

        # Two clips cut at the same time: both report ffmpeg's progress before either ends.
        await stack.events.wait_until(lambda r: len(progressing(r)) >= CONCURRENCY, 90)
        assert not any(of(stack.events, "clip.ClipCompleted", c.aggregate_id) for c in clips)
        assert len(ffmpeg_processes(stack.settings.media_root)) >= CONCURRENCY
        # Never more than the configured number at once.
        assert len(progressing(stack.events)) == CONCURRENCY
        await stack.media.kill()

        await stack.media.restart()
        ends = [await clip_end(stack, c, timeout=180) for c in clips]
        assert [e.type for e in ends] == ["clip.ClipCompleted"] * CLIPS, [e.data for e in ends]
        for clip in clips:
            await first(stack, "asset.AssetRegistered", output_asset_id(clip))
        await asyncio.sleep(1.0)  # let re-sent copies of the last decisions arrive too
    finally:
        assert await stack.stop() == 0, stack.output()

    assert [e.type for e in ends] == ["clip.ClipCompleted"] * CLIPS, [e.data for e in ends]
    for clip in clips:
        assert len(of(stack.events, "clip.ClipCompleted", clip.aggregate_id)) == 1
        assert of(stack.events, "clip.ClipFailed", clip.aggregate_id) == []
        assert len(of(stack.events, "asset.AssetRegistered", output_asset_id(clip))) == 1
        attempts = [
            s.data["attempt"] for s in of(stack.events, "clip.ClipStarted", clip.aggregate_id)
        ]
        assert attempts in ([1], [1, 2]), attempts  # a killed attempt is counted, then redone
    # The clips that were cutting at the kill ran again, as attempt 2.
    restarted = [c for c in clips if len(of(stack.events, "clip.ClipStarted", c.aggregate_id)) == 2]
    assert len(restarted) >= CONCURRENCY
    outputs = sorted(
        p.relative_to(space).as_posix()
        for p in (space / "clips").glob("??/*")
        if ".thumb." not in p.name
    )
    assert outputs == sorted(e.data["path"] for e in ends)
    assert len(set(outputs)) == CLIPS
