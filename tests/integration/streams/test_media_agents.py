"""Assets and clips through a real worker: Kafka in and out, ffmpeg/ffprobe on real files."""

from __future__ import annotations

import asyncio
import json
import os
import uuid

import pytest

from schemas.envelope import Envelope
from schemas.ids import derived_id
from tests.integration.streams.helpers import Stack, TopicReader, produce, send_commands
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
    temp_files,
)
from tests.media import MediaLibrary, decodes_cleanly, ffprobe


async def registered(stack: Stack, sources: MediaLibrary, name: str) -> Envelope:
    """Puts a test source under in/ and registers it; returns its AssetRegistered."""
    tenant = org()
    sources.put(name, space_of(stack, tenant) / "in")
    command = register(tenant, f"asset-{name}", f"in/{name}", title=name)
    await send_commands(stack.settings, [command])
    return await first(stack, "asset.AssetRegistered", command.aggregate_id)


async def test_a_registered_file_is_probed_and_recorded_with_its_size_duration_and_digest(
    stack: Stack, sources: MediaLibrary
) -> None:
    tenant = org()
    path = sources.put("video.mp4", space_of(stack, tenant) / "in")
    command = register(tenant, "raw", "in/video.mp4", title="Raw footage")
    await send_commands(stack.settings, [command])
    event = await first(stack, "asset.AssetRegistered", command.aggregate_id)
    media = event.data["media"]
    assert (event.org_id, event.sequence, event.data["title"]) == (tenant, 2, "Raw footage")
    assert event.actor.kind == "service"
    assert media["size_bytes"] == path.stat().st_size
    assert media["sha256"] == sha256_of(path)
    assert media["duration_s"] == pytest.approx(12.0, abs=0.1)
    assert (media["width"], media["height"]) == (320, 180)
    assert {s["type"] for s in media["streams"]} == {"video", "audio"}
    assert of(stack.events, "asset.AssetRegistrationFailed", command.aggregate_id) == []


async def test_a_registration_retried_by_its_client_is_probed_once(
    stack: Stack, sources: MediaLibrary
) -> None:
    tenant = org()
    sources.put("video.mp4", space_of(stack, tenant) / "in")
    command = register(tenant, "retried", "in/video.mp4")
    await send_commands(stack.settings, [command])
    await first(stack, "asset.AssetRegistered", command.aggregate_id)
    await send_commands(stack.settings, [command])  # the client's retry, later
    await stack.events.wait_until(lambda r: len(r.outcomes()[command.command_id]) >= 2)
    await asyncio.sleep(1.0)  # time for a second probe result, if one were sent
    assert len(of(stack.events, "asset.AssetRegistered", command.aggregate_id)) == 1
    # A second probe would repeat the probe command, and the decider its outcome.
    probe_outcomes = stack.events.outcomes()[derived_id(command.aggregate_id, "probe")]
    assert len(probe_outcomes) == 1


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("notes.mp4", b"this is not a video at all\n" * 100, "unsupported_media"),
        ("list.mp4", b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n", None),
        ("empty.mp4", b"", "empty_media"),
    ],
)
async def test_a_file_that_is_not_plain_media_fails_registration_with_a_reason(
    stack: Stack, name: str, content: bytes, code: str | None
) -> None:
    tenant = org()
    hostile = space_of(stack, tenant) / "in" / name
    hostile.parent.mkdir(parents=True, exist_ok=True)
    hostile.write_bytes(content)
    command = register(tenant, f"hostile-{name}", f"in/{name}")
    await send_commands(stack.settings, [command])
    failed = await first(stack, "asset.AssetRegistrationFailed", command.aggregate_id)
    if code is not None:
        assert failed.data["code"] == code
    else:  # a playlist is refused as one, or as something ffprobe may not read at all
        assert failed.data["code"] in ("playlist_refused", "unsupported_media")
    assert f"in/{name}" in failed.data["reason"]
    assert str(stack.settings.media_root) not in failed.data["reason"]
    assert of(stack.events, "asset.AssetRegistered", command.aggregate_id) == []


async def test_a_link_out_of_the_media_root_is_refused_without_being_read(stack: Stack) -> None:
    tenant = org()
    link = space_of(stack, tenant) / "in" / "escape.mp4"
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink("/etc/hostname", link)
    command = register(tenant, "escape", "in/escape.mp4")
    await send_commands(stack.settings, [command])
    failed = await first(stack, "asset.AssetRegistrationFailed", command.aggregate_id)
    assert failed.data["code"] == "unsafe_path"
    assert "outside the media root" in failed.data["reason"]


async def test_a_file_of_another_kind_than_registered_is_refused_with_the_kind_to_use(
    stack: Stack, sources: MediaLibrary
) -> None:
    tenant = org()
    sources.put("tone.m4a", space_of(stack, tenant) / "in")
    command = register(tenant, "tone-as-video", "in/tone.m4a", kind="video")
    await send_commands(stack.settings, [command])
    failed = await first(stack, "asset.AssetRegistrationFailed", command.aggregate_id)
    assert failed.data["code"] == "kind_mismatch"
    assert "kind=audio" in failed.data["reason"]


async def test_a_requested_clip_runs_and_its_output_becomes_a_verified_asset(
    stack: Stack, sources: MediaLibrary
) -> None:
    source = await registered(stack, sources, "video.mp4")
    tenant = source.org_id
    clip = request_clip(
        tenant,
        "vertical",
        source.data["path"],
        asset_id=source.aggregate_id,
        sha256=source.data["media"]["sha256"],
        start=2.5,
        duration=3.0,
        mode="accurate",
        aspect="9:16",
        title="Vertical",
    )
    await send_commands(stack.settings, [clip])
    started = await first(stack, "clip.ClipStarted", clip.aggregate_id)
    completed = await clip_end(stack, clip)
    assert completed.type == "clip.ClipCompleted", completed.data
    assert started.data == {"attempt": 1}
    assert started.sequence == 2 and completed.sequence is not None and completed.sequence > 2

    data = completed.data
    file = space_of(stack, tenant) / data["path"]
    assert file.is_file() and sha256_of(file) == data["media"]["sha256"]
    assert decodes_cleanly(file)
    [video] = ffprobe(file, "-show_streams", "-select_streams", "v")["streams"]
    assert video["width"] * 16 == video["height"] * 9
    assert data["media"]["duration_s"] == pytest.approx(3.0, abs=0.1)
    assert data["output_asset_id"] == str(output_asset_id(clip))
    assert data["lineage"]["source_asset_id"] == str(source.aggregate_id)
    assert data["lineage"]["source_sha256"] == source.data["media"]["sha256"]
    assert (data["lineage"]["start_s"], data["lineage"]["mode"]) == (2.5, "accurate")
    assert data["thumbnail_path"] and (space_of(stack, tenant) / data["thumbnail_path"]).is_file()

    asset = await first(stack, "asset.AssetRegistered", output_asset_id(clip))
    assert asset.org_id == tenant
    assert asset.data["source_clip_id"] == str(clip.aggregate_id)
    assert (asset.data["path"], asset.data["media"]) == (data["path"], data["media"])
    assert (asset.data["kind"], asset.data["title"]) == ("video", "Vertical")
    assert asset.data["lineage"] == data["lineage"]
    assert temp_files(stack.settings.media_root) == []


async def test_the_same_clip_request_sent_twice_runs_one_job_and_makes_one_asset(
    stack: Stack, sources: MediaLibrary
) -> None:
    tenant = org()
    sources.put("video.mp4", space_of(stack, tenant) / "in")
    clip = request_clip(tenant, "twice", "in/video.mp4", start=4.0, duration=2.0)
    await send_commands(stack.settings, [clip, clip])
    assert (await clip_end(stack, clip)).type == "clip.ClipCompleted"
    await first(stack, "asset.AssetRegistered", output_asset_id(clip))
    await stack.events.wait_until(lambda r: len(r.outcomes().get(clip.command_id, [])) >= 2)
    outcomes = stack.events.outcomes()
    assert len({o.id for o in outcomes[clip.command_id]}) == 1
    assert len(of(stack.events, "clip.ClipRequested", clip.aggregate_id)) == 1
    assert len(of(stack.events, "clip.ClipStarted", clip.aggregate_id)) == 1
    assert len(of(stack.events, "clip.ClipCompleted", clip.aggregate_id)) == 1
    assert len(of(stack.events, "asset.AssetRegistered", output_asset_id(clip))) == 1


async def test_a_range_past_the_end_of_the_source_fails_the_clip_with_a_clear_reason(
    stack: Stack, sources: MediaLibrary
) -> None:
    tenant = org()
    sources.put("video.mp4", space_of(stack, tenant) / "in")
    clip = request_clip(tenant, "too-long", "in/video.mp4", start=10.0, duration=30.0)
    await send_commands(stack.settings, [clip])
    failed = await clip_end(stack, clip)
    assert failed.type == "clip.ClipFailed"
    assert failed.data["code"] == "range_outside_source"
    assert "ends after the source" in failed.data["reason"]
    assert of(stack.events, "asset.AssetRegistered", output_asset_id(clip)) == []


async def test_a_source_that_changed_since_it_was_registered_is_not_clipped(
    stack: Stack, sources: MediaLibrary
) -> None:
    tenant = org()
    sources.put("video.mp4", space_of(stack, tenant) / "in")
    clip = request_clip(
        tenant, "changed", "in/video.mp4", asset_id=None, sha256="0" * 64, start=1.0, duration=1.0
    )
    await send_commands(stack.settings, [clip])
    failed = await clip_end(stack, clip)
    assert (failed.type, failed.data["code"]) == ("clip.ClipFailed", "source_changed")
    assert "changed since it was registered" in failed.data["reason"]


async def test_a_source_outside_the_media_root_is_refused_before_any_clipping(
    stack: Stack,
) -> None:
    tenant = org()
    link = space_of(stack, tenant) / "in" / "outside.mp4"
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink("/etc/hostname", link)
    clip = request_clip(tenant, "outside", "in/outside.mp4", start=0.0, duration=1.0)
    await send_commands(stack.settings, [clip])
    failed = await clip_end(stack, clip)
    assert (failed.type, failed.data["code"]) == ("clip.ClipFailed", "unsafe_path")


async def test_unreadable_events_that_may_be_for_the_media_agent_go_to_its_dlq_once(
    stack: Stack, sources: MediaLibrary
) -> None:
    marker = uuid.uuid4().hex.encode()
    junk = b"\x00 not json " + marker
    bad_clip = json.dumps({"type": "clip.ClipRequested", "marker": marker.decode()}).encode()
    not_ours = json.dumps({"type": "queue.ItemEnqueued", "marker": marker.decode()}).encode()
    await produce(
        stack.settings,
        [(b"poison", v) for v in (junk, bad_clip, not_ours)],
        stack.settings.topics.events,
    )
    # A message after the poison is still handled: the agents kept going.
    source = await registered(stack, sources, "silent.mp4")
    assert source.data["media"]["duration_s"] == pytest.approx(4.0, abs=0.1)

    def refusals(r: TopicReader) -> set[tuple[bytes | None, bytes]]:
        return {
            (rec.value, rec.headers["wavestack-dlq-consumer"])
            for rec in r.records
            if rec.value is not None and marker in rec.value
        }

    expected = {(junk, b"media-agent"), (bad_clip, b"media-agent")}
    await stack.dlq.wait_until(lambda r: refusals(r) >= expected)
    assert refusals(stack.dlq) == expected
    assert len([r for r in stack.dlq.records if r.value in (junk, bad_clip)]) == 2
