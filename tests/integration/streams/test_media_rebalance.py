"""A second media process joining while clips run: the clips move or restart, each ends once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.integration.streams.helpers import Stack, TopicReader, Worker, send_commands
from tests.integration.streams.media_support import (
    clip_end,
    first,
    of,
    org,
    output_asset_id,
    request_clip,
    space_of,
)
from tests.media import MediaLibrary
from wavestack.settings import Settings


@pytest.mark.slow
async def test_clips_cut_off_by_a_rebalance_are_redone_and_each_ends_once(
    base_settings: Settings, tmp_path: Path, sources: MediaLibrary
) -> None:
    stack = await Stack.start(base_settings, tmp_path / "first")
    # Its own data directory: its own stores and its own static-membership name.
    dump = {**stack.settings.model_dump(), "worker_data_dir": tmp_path / "second" / "data"}
    (tmp_path / "second").mkdir()
    second = Worker(Settings(**dump), tmp_path / "second", "media", gated=True)
    tenant = org()
    try:
        # Loaded before the clips start: it joins a second after the gate opens, while
        # they run, instead of after its imports on a machine ffmpeg keeps busy.
        await second.start()
        await second.at_gate()
        sources.put("long.mp4", space_of(stack, tenant) / "in")
        clips = [
            request_clip(
                tenant,
                f"moved-{i}",
                "in/long.mp4",
                start=10.0 * i,
                duration=150.0,
                mode="accurate",
            )
            for i in range(2)
        ]
        await send_commands(stack.settings, clips)

        def progressing(r: TopicReader) -> int:
            return sum(1 for c in clips if of(r, "clip.ClipProgressed", c.aggregate_id))

        await stack.events.wait_until(lambda r: progressing(r) == len(clips), 90)
        second.open_gate()
        await second.ready()
        ends = [await clip_end(stack, c, timeout=180) for c in clips]
        for clip in clips:
            await first(stack, "asset.AssetRegistered", output_asset_id(clip))
        await asyncio.sleep(1.0)  # let re-sent copies of the last decisions arrive too
    finally:
        assert await second.stop() == 0, second.output()[-3000:]
        assert await stack.stop() == 0, stack.output()

    # The rebalance took every partition from the first process (aiokafka revokes all
    # before it assigns): its running clips were cancelled, and redone as attempt 2.
    assert "partitions_revoked" in stack.media.output()
    assert [e.type for e in ends] == ["clip.ClipCompleted"] * len(clips), [e.data for e in ends]
    for clip in clips:
        starts = of(stack.events, "clip.ClipStarted", clip.aggregate_id)
        assert [s.data["attempt"] for s in starts] == [1, 2], (
            stack.media.output()[-4000:] + "\n----- second -----\n" + second.output()[-4000:]
        )
        assert len(of(stack.events, "clip.ClipCompleted", clip.aggregate_id)) == 1
        assert len(of(stack.events, "asset.AssetRegistered", output_asset_id(clip))) == 1
