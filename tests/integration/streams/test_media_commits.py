"""The media process commits past what it passes by, and never past a clip still running."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from streams.media.app import group_id
from tests.integration.streams.helpers import Stack, committed_and_ends, send_commands
from tests.integration.streams.media_support import (
    clip_end,
    first,
    of,
    org,
    request_clip,
    space_of,
)
from tests.media import MediaLibrary
from wavestack.settings import Settings

FOREIGN = 300


async def produce_foreign(settings: Settings, key: bytes, count: int) -> None:
    """Events of a type the media process does not handle, keyed like ``key``'s aggregate."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        header = [("type", b"queue.ItemEnqueued")]
        for _ in range(count):
            await producer.send(settings.topics.events, b"{}", key=key, headers=header)
        await producer.flush()
    finally:
        await producer.stop()


async def positions(settings: Settings) -> tuple[dict[int, int], dict[int, int]]:
    """The media group's committed offsets and the events topic's end offsets, by partition."""
    return await committed_and_ends(settings, group_id(settings), settings.topics.events)


@pytest.mark.slow
async def test_passed_events_are_committed_but_never_past_a_running_clip(
    base_settings: Settings, tmp_path: Path, sources: MediaLibrary
) -> None:
    stack = await Stack.start(base_settings, tmp_path)
    try:
        tenant = org()
        sources.put("long.mp4", space_of(stack, tenant) / "in")
        # Nearly the whole 240 s source, re-encoded: about 10 s on a quiet machine, well
        # past the check below (a 60 s clip could end before it).
        clip = request_clip(
            tenant, "held", "in/long.mp4", start=0.0, duration=230.0, mode="accurate"
        )
        await send_commands(stack.settings, [clip])
        await first(stack, "clip.ClipProgressed", clip.aggregate_id)
        # Behind the running clip in its partition, and in every other partition too.
        key = str(clip.aggregate_id).encode()
        await produce_foreign(stack.settings, key, FOREIGN)
        for other in range(40):
            await produce_foreign(stack.settings, f"other-{other}".encode(), 5)
        await asyncio.sleep(3.0)  # several commit intervals
        done, ends = await positions(stack.settings)
        assert not of(stack.events, "clip.ClipCompleted", clip.aggregate_id), "ended too soon"
        # Only the clip's partition lags, by at least what came after the clip.
        lagging = {p: ends[p] - done.get(p, 0) for p in ends if done.get(p, 0) < ends[p]}
        assert len(lagging) == 1 and min(lagging.values()) >= FOREIGN, (done, ends)

        assert (await clip_end(stack, clip, timeout=120)).type == "clip.ClipCompleted"
        deadline = asyncio.get_running_loop().time() + 20
        while (current := await positions(stack.settings))[0] != current[1]:
            assert asyncio.get_running_loop().time() < deadline, current
            await asyncio.sleep(0.5)
    finally:
        assert await stack.stop() == 0, stack.output()
