"""The streams processes are wired as the architecture says (built, never started)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

from streams.decider.app import DeciderProcess, changelog_topic, group_id
from streams.media.app import MediaProcess, jobs_changelog
from streams.runtime.app import instance_id
from wavestack.settings import Settings


@contextlib.asynccontextmanager
async def built(s: Settings) -> AsyncIterator[DeciderProcess]:
    """The decider's process with its clients built, not started; closed after."""
    process = DeciderProcess(s)
    try:
        yield process
    finally:
        await process.close()


@contextlib.asynccontextmanager
async def built_media(s: Settings) -> AsyncIterator[MediaProcess]:
    """The media process with its clients built, not started; closed after."""
    process = MediaProcess(s)
    try:
        yield process
    finally:
        await process.close()


def settings(tmp_path: Path, **more: Any) -> Settings:
    return Settings(
        topic_prefix="unit-prefix", topic_partitions=5, worker_data_dir=tmp_path, **more
    )


async def test_deciding_and_media_work_are_two_consumer_groups(tmp_path: Path) -> None:
    async with built(settings(tmp_path)) as decider, built_media(settings(tmp_path)) as media:
        groups = (decider.consumer._group_id, media.consumer._group_id)
        assert media.topics.events == "unit-prefix.events"
        # One router for both handlers, passing every other type by its header.
        assert set(media.agent.routes) == {
            "asset.AssetRegistrationRequested",
            "asset.AssetDeleted",
            "clip.ClipRequested",
        }
    # Both keep the group (and changelog) names they had as Faust apps.
    assert groups == ("unit-prefix-worker", "unit-prefix-media")
    assert group_id(settings(tmp_path)) == "unit-prefix-worker"
    assert changelog_topic(settings(tmp_path)) == "unit-prefix-worker-aggregates-changelog"


async def test_the_decider_commits_by_hand_and_stores_state_per_role_and_group(
    tmp_path: Path,
) -> None:
    async with built(settings(tmp_path)) as decider:
        assert decider.consumer._enable_auto_commit is False
        assert decider.stores.root == tmp_path / "decider" / "unit-prefix-worker"
    async with built_media(settings(tmp_path)) as media:
        assert media.consumer._enable_auto_commit is False
        assert media.jobs.root == tmp_path / "media" / "unit-prefix-media"


async def test_static_membership_names_each_process_by_host_and_data_directory(
    tmp_path: Path,
) -> None:
    here = instance_id(settings(tmp_path), "decider")
    assert here == instance_id(settings(tmp_path), "decider")  # a restart is the same member
    assert here != instance_id(settings(tmp_path / "other"), "decider")  # another process
    assert here is not None and here.endswith("-decider")
    async with built_media(settings(tmp_path)) as media:
        assert media.consumer._group_instance_id.endswith("-media")
    named = settings(tmp_path, worker_instance_id="pod-3")
    assert instance_id(settings(tmp_path, worker_static_membership=False), "decider") is None
    async with built(named) as decider, built_media(named) as media:
        assert decider.consumer._group_instance_id == "pod-3-decider"
        assert media.consumer._group_instance_id == "pod-3-media"


async def test_the_media_process_runs_as_many_clips_at_once_as_configured(
    tmp_path: Path,
) -> None:
    async with built_media(settings(tmp_path, clip_concurrency=3)) as media:
        clips = media.agent.routes["clip.ClipRequested"]
        assert media.lanes._slots["clips"]._value == 3
        # The clipper's own slots are as many: a clip given a lane never waits again.
        assert cast(Any, clips).runner.limits.concurrency == 3
        assert media.lanes._slots["assets"]._value >= 1  # probes in a lane of their own


def test_the_media_jobs_changelog_keeps_the_name_the_faust_table_had(tmp_path: Path) -> None:
    assert jobs_changelog(settings(tmp_path)) == "unit-prefix-media-media_jobs-changelog"


async def test_every_producer_uses_acks_all_and_idempotence(tmp_path: Path) -> None:
    async with built(settings(tmp_path)) as decider, built_media(settings(tmp_path)) as media:
        for producer in (media.producer, decider.producer):  # aiokafka's, not started
            # aiokafka keeps a transaction manager exactly when idempotence is on.
            assert producer._txn_manager is not None
            assert producer._sender._acks == -1
