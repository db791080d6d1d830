"""The projector turns asset and clip events into assets and clips rows."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import asyncpg

from tests.integration.projections.media_events import (
    OUTPUT_SHA,
    SOURCE_MEDIA,
    SOURCE_SHA,
    asset_failed,
    asset_registered,
    asset_requested,
    clip_completed,
    clip_failed,
    clip_output_registered,
    clip_progressed,
    clip_requested,
    clip_started,
    lineage,
    output_asset_id,
    output_media,
)
from tests.integration.projections.projection_support import (
    ORG,
    T0,
    produce_events,
    projector_running,
    read_topic,
    wait_caught_up,
)
from wavestack.settings import Settings


async def one_row(db: asyncpg.Connection, table: str, row_id: uuid.UUID) -> asyncpg.Record:
    row = await db.fetchrow(f"SELECT * FROM {table} WHERE id = $1", row_id)
    assert row is not None, f"no {table} row {row_id}"
    return row


async def test_a_registered_asset_is_probing_first_then_carries_everything_its_probe_found(
    settings: Settings, db: asyncpg.Connection
) -> None:
    asset = uuid.uuid4()
    request, registration = asset_requested(asset), asset_registered(asset)

    async with projector_running(settings):
        await produce_events(settings, [request])
        await wait_caught_up(settings, db)
        probing = await one_row(db, "assets", asset)
        await produce_events(settings, [registration])
        await wait_caught_up(settings, db)

    assert (probing["status"], probing["path"], probing["kind"], probing["title"]) == (
        "probing",
        "sources/talk.mp4",
        "video",
        "The talk",
    )
    assert (probing["org_id"], probing["version"], probing["sha256"]) == (ORG, 1, None)
    assert json.loads(probing["probe"]) == {}
    row = await one_row(db, "assets", asset)
    assert (row["status"], row["version"], row["error"]) == ("registered", 2, None)
    assert (row["container"], row["duration_s"], row["width"], row["height"]) == (
        "mov,mp4,m4a,3gp,3g2,mj2",
        600.0,
        1920,
        1080,
    )
    assert (row["size_bytes"], row["sha256"]) == (52_428_800, SOURCE_SHA)
    probe = json.loads(row["probe"])
    assert probe == SOURCE_MEDIA.model_dump(mode="json")
    assert [s["type"] for s in probe["streams"]] == ["video", "audio"]
    assert (row["lineage"], row["source_clip_id"], row["thumbnail_path"]) == (None, None, None)
    assert row["created_at"] == request.occurred_at
    assert row["updated_at"] == registration.occurred_at > request.occurred_at


async def test_an_asset_whose_probe_failed_is_failed_with_the_reason_and_its_code(
    settings: Settings, db: asyncpg.Connection
) -> None:
    asset = uuid.uuid4()
    failure = asset_failed(asset)
    await produce_events(settings, [asset_requested(asset, path="sources/notes.txt"), failure])

    async with projector_running(settings):
        await wait_caught_up(settings, db)

    row = await one_row(db, "assets", asset)
    assert (row["status"], row["version"], row["path"]) == ("failed", 2, "sources/notes.txt")
    assert row["error"] == "the file is not audio or video"
    assert row["error_code"] == "not_media"
    assert row["sha256"] is None
    assert row["updated_at"] == failure.occurred_at


async def test_a_clip_output_is_inserted_registered_with_its_lineage_though_never_requested(
    settings: Settings, db: asyncpg.Connection
) -> None:
    source, clip = uuid.uuid4(), uuid.uuid4()
    output = clip_output_registered(clip, source)
    await produce_events(settings, [output])

    async with projector_running(settings):
        await wait_caught_up(settings, db)

    row = await one_row(db, "assets", output_asset_id(clip))
    assert (row["status"], row["version"], row["kind"]) == ("registered", 1, "video")
    assert row["path"] == f"clips/{OUTPUT_SHA[:2]}/{OUTPUT_SHA}.mp4"
    assert row["thumbnail_path"] == f"clips/{OUTPUT_SHA[:2]}/{OUTPUT_SHA}.jpg"
    assert row["source_clip_id"] == clip
    assert (row["duration_s"], row["width"], row["height"]) == (30.0, 1080, 1920)
    assert (row["sha256"], row["size_bytes"]) == (OUTPUT_SHA, 4_194_304)
    assert json.loads(row["probe"]) == output_media().model_dump(mode="json")
    recorded = json.loads(row["lineage"])
    assert recorded == lineage(source).model_dump(mode="json")
    assert (recorded["source_asset_id"], recorded["start_s"], recorded["mode"]) == (
        str(source),
        62.0,
        "fast",
    )
    assert row["created_at"] == row["updated_at"] == output.occurred_at


async def test_a_clip_goes_from_requested_through_running_to_succeeded_with_its_result(
    settings: Settings, db: asyncpg.Connection
) -> None:
    source, clip = uuid.uuid4(), uuid.uuid4()
    request = clip_requested(clip, source)
    done = clip_completed(clip, 4, source, occurred_at=T0 + timedelta(minutes=5))

    async with projector_running(settings):
        await produce_events(settings, [request])
        await wait_caught_up(settings, db)
        requested = await one_row(db, "clips", clip)
        await produce_events(settings, [clip_started(clip, 2), clip_progressed(clip, 3, 0.4)])
        await wait_caught_up(settings, db)
        running = await one_row(db, "clips", clip)
        await produce_events(settings, [clip_output_registered(clip, source), done])
        await wait_caught_up(settings, db)

    assert (requested["status"], requested["progress"], requested["attempt"]) == (
        "requested",
        0,
        0,
    )
    assert (requested["source_asset_id"], requested["source_path"]) == (source, "sources/talk.mp4")
    assert (requested["start_s"], requested["duration_s"]) == (62.0, 30.0)
    assert (requested["format"], requested["mode"], requested["aspect"]) == ("mp4", "fast", "9:16")
    assert (requested["title"], requested["project_id"]) == ("Best moment", None)
    assert requested["created_at"] == request.occurred_at
    assert (running["status"], running["attempt"], running["progress"]) == ("running", 1, 0.4)
    assert running["version"] == 3
    row = await one_row(db, "clips", clip)
    assert (row["status"], row["progress"], row["version"]) == ("succeeded", 1, 4)
    assert row["output_asset_id"] == output_asset_id(clip)
    assert (row["actual_start_s"], row["start_offset_s"]) == (60.0, -2.0)
    assert json.loads(row["lineage"]) == lineage(source).model_dump(mode="json")
    assert (row["error"], row["error_code"]) == (None, None)
    assert row["created_at"] == request.occurred_at
    assert row["updated_at"] == done.occurred_at
    assert (
        await db.fetchval("SELECT source_clip_id FROM assets WHERE id = $1", output_asset_id(clip))
        == clip
    )


async def test_a_restarted_clip_attempt_starts_its_progress_again_from_zero(
    settings: Settings, db: asyncpg.Connection
) -> None:
    clip = uuid.uuid4()
    restart = clip_started(clip, 4, attempt=2)
    await produce_events(
        settings,
        [clip_requested(clip, None), clip_started(clip, 2), clip_progressed(clip, 3, 0.7), restart],
    )

    async with projector_running(settings):
        await wait_caught_up(settings, db)

    row = await one_row(db, "clips", clip)
    assert (row["status"], row["attempt"], row["progress"], row["version"]) == (
        "running",
        2,
        0,
        4,
    )
    assert row["source_asset_id"] is None
    assert row["updated_at"] == restart.occurred_at


async def test_a_failed_clip_keeps_its_progress_and_records_the_reason_and_its_code(
    settings: Settings, db: asyncpg.Connection
) -> None:
    clip = uuid.uuid4()
    await produce_events(
        settings,
        [
            clip_requested(clip, None),
            clip_started(clip, 2),
            clip_progressed(clip, 3, 0.25),
            clip_failed(clip, 4),
        ],
    )

    async with projector_running(settings):
        await wait_caught_up(settings, db)

    row = await one_row(db, "clips", clip)
    assert (row["status"], row["progress"], row["version"]) == ("failed", 0.25, 4)
    assert row["error"] == "ffmpeg ran longer than 600 s and was stopped"
    assert row["error_code"] == "timeout"
    assert (row["output_asset_id"], row["lineage"], row["actual_start_s"]) == (None, None, None)


async def test_redelivered_and_older_asset_and_clip_events_are_skipped_by_version(
    settings: Settings, db: asyncpg.Connection
) -> None:
    source, clip = uuid.uuid4(), uuid.uuid4()
    first_request, registration = asset_requested(source), asset_registered(source)
    output, done = clip_output_registered(clip, source), clip_completed(clip, 4, source)
    history = [
        first_request,
        registration,
        clip_requested(clip, source),
        clip_started(clip, 2),
        clip_progressed(clip, 3, 0.5),
        output,
        done,
    ]
    # A crashed decider re-emits decisions (same ids and sequences); a re-run clip
    # registers its output again; a stray event of an older sequence arrives last.
    replayed = [first_request, registration, output, clip_started(clip, 2)]
    stale = [
        asset_requested(source, path="elsewhere.mp4", command_id=uuid.uuid4()),
        asset_failed(source, command_id=uuid.uuid4()),
        clip_progressed(clip, 3, 0.9, command_id=uuid.uuid4()),
        clip_failed(clip, 4, command_id=uuid.uuid4()),
    ]
    await produce_events(settings, history + replayed + stale)

    async with projector_running(settings):
        await wait_caught_up(settings, db)

    asset = await one_row(db, "assets", source)
    assert (asset["status"], asset["version"], asset["path"]) == (
        "registered",
        2,
        "sources/talk.mp4",
    )
    assert (asset["error"], asset["error_code"]) == (None, None)
    row = await one_row(db, "clips", clip)
    assert (row["status"], row["progress"], row["version"], row["error"]) == (
        "succeeded",
        1,
        4,
        None,
    )
    assert row["updated_at"] == done.occurred_at
    assert await db.fetchval("SELECT count(*) FROM assets") == 2
    # The audit index holds each event id once: the history and the stale copies.
    assert await db.fetchval("SELECT count(*) FROM events") == len(history) + len(stale)


async def test_another_organizations_events_never_change_an_asset_or_a_clip(
    settings: Settings, db: asyncpg.Connection
) -> None:
    asset, clip = uuid.uuid4(), uuid.uuid4()
    await produce_events(
        settings,
        [
            asset_requested(asset),
            asset_registered(asset, path="theirs.mp4", org_id="org-intruder"),
            clip_requested(clip, asset),
            clip_started(clip, 2, org_id="org-intruder"),
            clip_failed(clip, 3, org_id="org-intruder"),
        ],
    )

    async with projector_running(settings):
        await wait_caught_up(settings, db)

    row = await one_row(db, "assets", asset)
    assert (row["org_id"], row["status"], row["path"], row["version"]) == (
        ORG,
        "probing",
        "sources/talk.mp4",
        1,
    )
    clip_row = await one_row(db, "clips", clip)
    assert (clip_row["status"], clip_row["version"]) == ("requested", 1)
    assert await read_topic(settings, settings.topics.dlq, timeout=1) == []
