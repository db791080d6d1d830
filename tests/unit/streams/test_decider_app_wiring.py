"""The streams apps are wired as the architecture says (built, never started)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from streams.decider.app import create_app as create_decider
from streams.media.app import CLIP_MARGIN_SECONDS
from streams.media.app import create_app as create_media
from wavestack.settings import Settings


def settings(tmp_path: Path, **more: Any) -> Settings:
    return Settings(
        topic_prefix="unit-prefix", topic_partitions=5, worker_data_dir=tmp_path, **more
    )


def test_deciding_and_media_work_are_two_consumer_groups_at_least_once_without_web(
    tmp_path: Path,
) -> None:
    decider, media = create_decider(settings(tmp_path)), create_media(settings(tmp_path))
    # The decider keeps the group (and changelog) name it had as the only app.
    assert (decider.conf.id, media.conf.id) == ("unit-prefix-worker", "unit-prefix-media")
    for app in (decider, media):
        guarantee: Any = app.conf.processing_guarantee  # faust's stubs mistype this setting
        assert guarantee.value == "at_least_once"
        assert app.conf.web_enabled is False
    assert [(a.name, a.concurrency) for a in decider.agents.values()] == [("decider", 1)]
    assert [(a.name, a.concurrency) for a in media.agents.values()] == [("media-agent", 1)]


def test_each_app_reads_one_topic_with_one_agent(tmp_path: Path) -> None:
    def topics(app: Any) -> dict[str, str]:
        return {name: agent.channel.get_topic_name() for name, agent in app.agents.items()}

    assert topics(create_decider(settings(tmp_path))) == {"decider": "unit-prefix.commands"}
    assert topics(create_media(settings(tmp_path))) == {"media-agent": "unit-prefix.events"}


def test_tables_live_on_disk_per_role_so_a_restart_does_not_replay_whole_changelogs(
    tmp_path: Path,
) -> None:
    decider, media = create_decider(settings(tmp_path)), create_media(settings(tmp_path))
    for app, role in ((decider, "decider"), (media, "media")):
        assert str(app.conf.store) == "rocksdb:"
        assert Path(app.conf.datadir).parent == tmp_path
        assert Path(app.conf.datadir).name == role


def test_static_membership_names_each_process_by_host_and_data_directory(
    tmp_path: Path,
) -> None:
    def name(s: Settings) -> Any:
        return create_decider(s).conf.consumer_group_instance_id

    here = name(settings(tmp_path))
    assert here == name(settings(tmp_path))  # a restart is the same member
    assert here != name(settings(tmp_path / "other"))  # another process is another
    assert here.endswith("-decider")
    assert create_media(settings(tmp_path)).conf.consumer_group_instance_id.endswith("-media")
    named = settings(tmp_path, worker_instance_id="pod-3")
    assert (name(named), create_media(named).conf.consumer_group_instance_id) == (
        "pod-3-decider",
        "pod-3-media",
    )
    assert name(settings(tmp_path, worker_static_membership=False)) is None


def test_a_dead_worker_is_noticed_within_its_session_timeout(tmp_path: Path) -> None:
    conf = create_decider(settings(tmp_path, worker_session_timeout_seconds=8)).conf
    assert conf.broker_session_timeout == 8
    assert conf.broker_heartbeat_interval <= 1


def test_a_clip_may_run_its_whole_timeout_without_the_media_app_leaving_the_group(
    tmp_path: Path,
) -> None:
    conf = create_media(settings(tmp_path, clip_timeout_seconds=1800)).conf
    assert conf.broker_max_poll_interval == 1800 + CLIP_MARGIN_SECONDS
    assert conf.stream_processing_timeout >= 1800
    assert conf.broker_commit_livelock_soft_timeout >= 1800


def test_tables_have_one_partition_per_topic_partition_and_prefixed_changelogs(
    tmp_path: Path,
) -> None:
    aggregates = create_decider(settings(tmp_path)).tables["aggregates"]
    jobs = create_media(settings(tmp_path)).tables["media_jobs"]
    assert (aggregates.partitions, jobs.partitions) == (5, 5)
    assert aggregates.changelog_topic.get_topic_name() == "unit-prefix-worker-aggregates-changelog"
    assert jobs.changelog_topic.get_topic_name() == "unit-prefix-media-media_jobs-changelog"


async def test_the_producer_uses_acks_all_and_idempotence(tmp_path: Path) -> None:
    app = create_decider(settings(tmp_path))
    producer: Any = cast(Any, app.producer)._new_producer()  # aiokafka's, not started
    try:
        # aiokafka keeps a transaction manager exactly when idempotence is on.
        assert producer._txn_manager is not None
        assert producer._sender._acks == -1
    finally:
        await producer.stop()
