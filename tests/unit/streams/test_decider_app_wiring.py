"""The worker's Faust app is wired as the architecture says (built, never started)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from streams.app import CLIP_MARGIN_SECONDS, create_app
from wavestack.settings import Settings


def settings(tmp_path: Path) -> Settings:
    return Settings(topic_prefix="unit-prefix", topic_partitions=5, worker_data_dir=tmp_path)


def test_the_app_is_at_least_once_with_one_actor_per_agent_and_no_web_server(
    tmp_path: Path,
) -> None:
    app = create_app(settings(tmp_path))
    assert app.conf.id == "unit-prefix-worker"
    guarantee: Any = app.conf.processing_guarantee  # faust's stubs mistype this setting
    assert guarantee.value == "at_least_once"
    assert app.conf.web_enabled is False
    assert [(a.name, a.concurrency) for a in app.agents.values()] == [
        ("decider", 1),
        ("media-agent", 1),
    ]


def test_each_topic_has_exactly_one_agent_so_no_message_is_shared_between_agents(
    tmp_path: Path,
) -> None:
    agents = create_app(settings(tmp_path)).agents
    topics = {name: agent.channel.get_topic_name() for name, agent in agents.items()}
    assert topics == {"decider": "unit-prefix.commands", "media-agent": "unit-prefix.events"}


def test_a_clip_may_run_its_whole_timeout_without_the_worker_leaving_the_group(
    tmp_path: Path,
) -> None:
    conf = create_app(
        Settings(topic_prefix="unit-prefix", worker_data_dir=tmp_path, clip_timeout_seconds=1800)
    ).conf
    assert conf.broker_max_poll_interval == 1800 + CLIP_MARGIN_SECONDS
    assert conf.stream_processing_timeout >= 1800
    assert conf.broker_commit_livelock_soft_timeout >= 1800


def test_the_table_has_one_partition_per_commands_partition_and_a_prefixed_changelog(
    tmp_path: Path,
) -> None:
    table = create_app(settings(tmp_path)).tables["aggregates"]
    assert table.partitions == 5
    assert table.changelog_topic.get_topic_name() == "unit-prefix-worker-aggregates-changelog"


def test_the_media_jobs_table_is_partitioned_like_the_events_topic(tmp_path: Path) -> None:
    table = create_app(settings(tmp_path)).tables["media_jobs"]
    assert table.partitions == 5
    assert table.changelog_topic.get_topic_name() == "unit-prefix-worker-media_jobs-changelog"


async def test_the_producer_uses_acks_all_and_idempotence(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path))
    producer: Any = cast(Any, app.producer)._new_producer()  # aiokafka's, not started
    try:
        # aiokafka keeps a transaction manager exactly when idempotence is on.
        assert producer._txn_manager is not None
        assert producer._sender._acks == -1
    finally:
        await producer.stop()
