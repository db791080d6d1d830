"""The streams processes are wired as the architecture says (built, never started)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

from streams.decider.app import DeciderProcess, changelog_topic, group_id
from streams.media.app import CLIP_MARGIN_SECONDS
from streams.media.app import create_app as create_media
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


def settings(tmp_path: Path, **more: Any) -> Settings:
    return Settings(
        topic_prefix="unit-prefix", topic_partitions=5, worker_data_dir=tmp_path, **more
    )


async def test_deciding_and_media_work_are_two_consumer_groups(tmp_path: Path) -> None:
    media = create_media(settings(tmp_path))
    async with built(settings(tmp_path)) as decider:
        group = decider.consumer._group_id
    # The decider keeps the group (and changelog) name it had as a Faust app.
    assert (group, media.conf.id) == ("unit-prefix-worker", "unit-prefix-media")
    assert group_id(settings(tmp_path)) == "unit-prefix-worker"
    assert changelog_topic(settings(tmp_path)) == "unit-prefix-worker-aggregates-changelog"
    guarantee: Any = media.conf.processing_guarantee  # faust's stubs mistype this setting
    assert guarantee.value == "at_least_once"
    assert media.conf.web_enabled is False
    assert [(a.name, a.concurrency) for a in media.agents.values()] == [("media-agent", 1)]
    assert {name: a.channel.get_topic_name() for name, a in media.agents.items()} == {
        "media-agent": "unit-prefix.events"
    }


async def test_the_decider_commits_by_hand_and_stores_state_per_role_and_group(
    tmp_path: Path,
) -> None:
    async with built(settings(tmp_path)) as decider:
        assert decider.consumer._enable_auto_commit is False
        assert decider.stores.root == tmp_path / "decider" / "unit-prefix-worker"
    media = create_media(settings(tmp_path))
    assert str(media.conf.store) == "rocksdb:"
    assert Path(media.conf.datadir) == tmp_path / "media"


async def test_static_membership_names_each_process_by_host_and_data_directory(
    tmp_path: Path,
) -> None:
    here = instance_id(settings(tmp_path), "decider")
    assert here == instance_id(settings(tmp_path), "decider")  # a restart is the same member
    assert here != instance_id(settings(tmp_path / "other"), "decider")  # another process
    assert here is not None and here.endswith("-decider")
    assert create_media(settings(tmp_path)).conf.consumer_group_instance_id.endswith("-media")
    named = settings(tmp_path, worker_instance_id="pod-3")
    assert (instance_id(named, "decider"), create_media(named).conf.consumer_group_instance_id) == (
        "pod-3-decider",
        "pod-3-media",
    )
    assert instance_id(settings(tmp_path, worker_static_membership=False), "decider") is None
    async with built(named) as decider:
        assert decider.consumer._group_instance_id == "pod-3-decider"


def test_a_clip_may_run_its_whole_timeout_without_the_media_app_leaving_the_group(
    tmp_path: Path,
) -> None:
    conf = create_media(settings(tmp_path, clip_timeout_seconds=1800)).conf
    assert conf.broker_max_poll_interval == 1800 + CLIP_MARGIN_SECONDS
    assert conf.stream_processing_timeout >= 1800
    assert conf.broker_commit_livelock_soft_timeout >= 1800


def test_the_media_jobs_table_has_one_partition_per_topic_partition(tmp_path: Path) -> None:
    jobs = create_media(settings(tmp_path)).tables["media_jobs"]
    assert jobs.partitions == 5
    assert jobs.changelog_topic.get_topic_name() == "unit-prefix-media-media_jobs-changelog"


async def test_every_producer_uses_acks_all_and_idempotence(tmp_path: Path) -> None:
    media: Any = cast(Any, create_media(settings(tmp_path)).producer)._new_producer()
    async with built(settings(tmp_path)) as decider:
        for producer in (media, decider.producer):  # aiokafka's, not started
            # aiokafka keeps a transaction manager exactly when idempotence is on.
            assert producer._txn_manager is not None
            assert producer._sender._acks == -1
    await media.stop()
