"""How many replicas `wavestack topics` asks for, and that a refused topic is an error."""

from __future__ import annotations

import pytest
from aiokafka.errors import InvalidReplicationFactorError

from wavestack.topics import min_insync_for, raise_topic_errors, replication_for, topic_configs


@pytest.mark.parametrize(("brokers", "replicas"), [(0, 1), (1, 1), (2, 2), (3, 3), (5, 3)])
def test_replication_is_three_where_the_brokers_allow(brokers: int, replicas: int) -> None:
    assert replication_for(brokers) == replicas


@pytest.mark.parametrize(("replicas", "in_sync"), [(1, 1), (2, 1), (3, 2), (5, 2)])
def test_two_copies_acknowledge_a_write_only_when_a_third_can_be_lost(
    replicas: int, in_sync: int
) -> None:
    assert min_insync_for(replicas) == in_sync


def test_topics_keep_data_forever_whatever_the_replication() -> None:
    configs = topic_configs(3)
    assert configs["retention.ms"] == "-1"
    assert configs["min.insync.replicas"] == "2"


def test_a_topic_the_cluster_refused_raises_and_one_that_exists_does_not() -> None:
    raise_topic_errors([("p.events", 0, None), ("p.dlq", 36, "already exists")])
    with pytest.raises(InvalidReplicationFactorError, match=r"p\.events"):
        raise_topic_errors([("p.events", 38, "only 1 broker(s) are registered")])
