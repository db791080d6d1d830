"""The asset's pure decide/evolve: registration, probe results and clip outputs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from schemas.agent_commands import FailAssetRegistration, RecordAssetProbe, RegisterClipOutput
from schemas.commands import DeleteAsset, RegisterAsset
from schemas.events import (
    AssetDeleted,
    AssetRegistered,
    AssetRegistrationFailed,
    AssetRegistrationRequested,
)
from schemas.media import ClipLineage, MediaInfo
from streams.domain.asset import AssetState, AssetStatus, decide, evolve

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PROJECT = uuid.uuid4()
MEDIA = MediaInfo(
    container="mov,mp4,m4a,3gp,3g2,mj2", duration_s=12.0, size_bytes=1000, sha256="a" * 64
)
LINEAGE = ClipLineage(
    source_asset_id=uuid.uuid4(),
    source_path="in/video.mp4",
    source_sha256="b" * 64,
    start_s=2.0,
    duration_s=3.0,
    mode="accurate",
    aspect="9:16",
    format="mp4",
    ffmpeg_version="7.1",
)


def state(status: AssetStatus = "probing") -> AssetState:
    return AssetState(
        status=status, path="in/video.mp4", kind="video", title="Raw", project_id=PROJECT
    )


def output(clip_id: uuid.UUID) -> RegisterClipOutput:
    return RegisterClipOutput(
        clip_id=clip_id,
        path="clips/cc/" + "c" * 64 + ".mp4",
        kind="video",
        title="Highlight",
        media=MEDIA,
        thumbnail_path="clips/cc/" + "c" * 64 + ".thumb.jpg",
        lineage=LINEAGE,
    )


def test_register_asset_on_a_new_id_asks_for_a_probe() -> None:
    command = RegisterAsset(path="in/video.mp4", title="Raw", project_id=PROJECT)
    decision = decide(command, None, NOW)
    assert decision.outcome == "applied"
    assert decision.events == (
        AssetRegistrationRequested(
            path="in/video.mp4", kind="video", title="Raw", project_id=PROJECT
        ),
    )
    assert evolve(None, decision.events[0]) == state("probing")


def test_register_asset_on_an_existing_id_is_a_conflict() -> None:
    decision = decide(RegisterAsset(path="in/video.mp4"), state(), NOW)
    assert (decision.outcome, decision.status, decision.events) == ("rejected", 409, ())


def test_a_probe_of_a_probing_asset_registers_it_with_the_requested_names() -> None:
    decision = decide(RecordAssetProbe(media=MEDIA), state(), NOW)
    assert decision.outcome == "applied"
    assert decision.events == (
        AssetRegistered(
            path="in/video.mp4", kind="video", title="Raw", project_id=PROJECT, media=MEDIA
        ),
    )
    assert evolve(state(), decision.events[0]).status == "registered"


def test_a_second_probe_of_a_registered_asset_is_a_duplicate() -> None:
    decision = decide(RecordAssetProbe(media=MEDIA), state("registered"), NOW)
    assert (decision.outcome, decision.events) == ("duplicate", ())


def test_a_probe_of_an_asset_whose_registration_failed_is_refused() -> None:
    decision = decide(RecordAssetProbe(media=MEDIA), state("failed"), NOW)
    assert (decision.outcome, decision.status) == ("rejected", 409)


@pytest.mark.parametrize(
    "command",
    [RecordAssetProbe(media=MEDIA), FailAssetRegistration(code="empty_media", reason="empty")],
)
def test_probe_results_for_an_unknown_asset_are_not_found(
    command: RecordAssetProbe | FailAssetRegistration,
) -> None:
    decision = decide(command, None, NOW)
    assert (decision.outcome, decision.status) == ("rejected", 404)


def test_a_failed_probe_fails_the_registration_with_its_code_and_reason() -> None:
    command = FailAssetRegistration(code="playlist_refused", reason="'x.mp4' is a playlist")
    decision = decide(command, state(), NOW)
    assert decision.events == (
        AssetRegistrationFailed(code="playlist_refused", reason="'x.mp4' is a playlist"),
    )
    assert evolve(state(), decision.events[0]).status == "failed"


def test_failing_a_failed_registration_again_is_a_duplicate() -> None:
    decision = decide(FailAssetRegistration(code="x", reason="y"), state("failed"), NOW)
    assert (decision.outcome, decision.events) == ("duplicate", ())


def test_failing_a_registered_asset_is_refused() -> None:
    decision = decide(FailAssetRegistration(code="x", reason="y"), state("registered"), NOW)
    assert (decision.outcome, decision.status) == ("rejected", 409)


def test_a_clip_output_registers_a_new_asset_with_its_lineage_and_clip() -> None:
    clip_id = uuid.uuid4()
    decision = decide(output(clip_id), None, NOW)
    [event] = decision.events
    assert isinstance(event, AssetRegistered)
    assert (event.lineage, event.source_clip_id, event.media) == (LINEAGE, clip_id, MEDIA)
    assert event.thumbnail_path is not None and event.thumbnail_path.endswith(".thumb.jpg")
    assert evolve(None, event) == AssetState(
        status="registered",
        path=event.path,
        kind="video",
        title="Highlight",
        thumbnail_path=event.thumbnail_path,
    )


def test_a_clip_output_registered_again_is_a_duplicate() -> None:
    decision = decide(output(uuid.uuid4()), state("registered"), NOW)
    assert (decision.outcome, decision.events) == ("duplicate", ())


def test_a_failure_cannot_apply_to_an_asset_that_does_not_exist() -> None:
    with pytest.raises(ValueError, match="cannot apply"):
        evolve(None, AssetRegistrationFailed(code="x", reason="y"))


@pytest.mark.parametrize("status", ["registered", "failed"])
def test_a_registered_or_failed_asset_is_deleted_with_the_files_to_remove(
    status: AssetStatus,
) -> None:
    with_thumb = state(status).model_copy(update={"thumbnail_path": "clips/ab/x.thumb.jpg"})
    decision = decide(DeleteAsset(), with_thumb, NOW)
    [deleted] = decision.events
    assert isinstance(deleted, AssetDeleted)
    assert (deleted.path, deleted.thumbnail_path, deleted.keep_file) == (
        "in/video.mp4",
        "clips/ab/x.thumb.jpg",
        False,
    )
    after = evolve(with_thumb, deleted)
    assert after.status == "deleted"
    assert decide(DeleteAsset(), after, NOW).outcome == "duplicate"
    # A late probe result can't bring it back.
    assert decide(RecordAssetProbe(media=MEDIA), after, NOW).outcome == "rejected"


def test_deleting_an_asset_being_probed_or_unknown_is_refused() -> None:
    probing = decide(DeleteAsset(), state("probing"), NOW)
    assert (probing.outcome, probing.status) == ("rejected", 409)
    unknown = decide(DeleteAsset(), None, NOW)
    assert (unknown.outcome, unknown.status) == ("rejected", 404)


def test_a_file_another_asset_names_is_kept() -> None:
    [deleted] = decide(DeleteAsset(keep_file=True), state("registered"), NOW).events
    assert isinstance(deleted, AssetDeleted) and deleted.keep_file
