"""A deleted asset's file leaves its organization's space; a shared file stays; a clip
already cutting from it finishes."""

from __future__ import annotations

import asyncio

import pytest

from schemas.commands import DeleteAsset
from tests.integration.streams.helpers import Stack, addressing, send_commands
from tests.integration.streams.media_support import (
    clip_end,
    first,
    of,
    org,
    output_asset_id,
    register,
    request_clip,
    sha256_of,
    space_of,
)
from tests.media import MediaLibrary


async def test_deleting_a_registered_asset_removes_its_file_once(
    stack: Stack, sources: MediaLibrary
) -> None:
    tenant = org()
    path = sources.put("video.mp4", space_of(stack, tenant) / "in")
    command = register(tenant, "doomed", "in/video.mp4")
    await send_commands(stack.settings, [command])
    await first(stack, "asset.AssetRegistered", command.aggregate_id)
    delete = addressing(tenant, command.aggregate_id, DeleteAsset())
    await send_commands(stack.settings, [delete])
    deleted = await first(stack, "asset.AssetDeleted", command.aggregate_id)
    assert deleted.data["path"] == "in/video.mp4"
    for _ in range(100):
        if not path.exists():
            break
        await asyncio.sleep(0.1)
    assert not path.exists()
    # Deleting again is a duplicate: no second event, nothing else touched.
    again = addressing(tenant, command.aggregate_id, DeleteAsset())
    await send_commands(stack.settings, [again])
    await stack.events.wait_until(lambda r: again.command_id in r.outcomes())
    assert stack.events.outcomes()[again.command_id][0].data["outcome"] == "duplicate"
    await asyncio.sleep(1.0)
    assert len(of(stack.events, "asset.AssetDeleted", command.aggregate_id)) == 1


async def test_a_file_another_asset_names_is_kept_and_other_orgs_files_are_never_touched(
    stack: Stack, sources: MediaLibrary
) -> None:
    tenant, other = org(), org()
    mine = sources.put("video.mp4", space_of(stack, tenant) / "in")
    theirs = sources.put("video.mp4", space_of(stack, other) / "in")  # the same relative path
    first_asset = register(tenant, "one", "in/video.mp4")
    await send_commands(stack.settings, [first_asset])
    await first(stack, "asset.AssetRegistered", first_asset.aggregate_id)
    kept = addressing(tenant, first_asset.aggregate_id, DeleteAsset(keep_file=True))
    await send_commands(stack.settings, [kept])
    await first(stack, "asset.AssetDeleted", first_asset.aggregate_id)
    await asyncio.sleep(2.0)  # time for a removal, if one were made
    assert mine.exists() and theirs.exists()


@pytest.mark.slow
async def test_a_clip_cutting_from_a_deleted_file_still_finishes(
    stack: Stack, sources: MediaLibrary
) -> None:
    """The file is unlinked while ffmpeg reads it (POSIX: its open file lives on), so the
    running clip completes and registers its output; the source is gone from the space."""
    tenant = org()
    path = sources.put("long.mp4", space_of(stack, tenant) / "in")
    asset = register(tenant, "source", "in/long.mp4")
    await send_commands(stack.settings, [asset])
    await first(stack, "asset.AssetRegistered", asset.aggregate_id)
    clip = request_clip(
        tenant,
        "cut-while-deleted",
        "in/long.mp4",
        asset_id=asset.aggregate_id,
        sha256=sha256_of(path),
        start=0.0,
        duration=230.0,  # about 10 s of encoding here: the removal lands in the middle
        mode="accurate",
    )
    await send_commands(stack.settings, [clip])
    await first(stack, "clip.ClipProgressed", clip.aggregate_id, timeout=90)
    await send_commands(stack.settings, [addressing(tenant, asset.aggregate_id, DeleteAsset())])
    await first(stack, "asset.AssetDeleted", asset.aggregate_id)
    for _ in range(100):
        if not path.exists():
            break
        await asyncio.sleep(0.1)
    assert not path.exists()
    assert not of(stack.events, "clip.ClipCompleted", clip.aggregate_id), "ended before"
    end = await clip_end(stack, clip, timeout=180)
    assert end.type == "clip.ClipCompleted", end.data
    assert of(stack.events, "clip.ClipStarted", clip.aggregate_id)[-1].data["attempt"] == 1
    await first(stack, "asset.AssetRegistered", output_asset_id(clip))
