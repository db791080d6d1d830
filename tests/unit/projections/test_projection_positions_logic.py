"""Decisions about positions, made before any I/O: where a replay starts, what is left."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition

from projections.catchup import records_between
from projections.replay import replay, rewind
from schemas.catalog import Topics
from schemas.kafka_security import KafkaConnection

EVENTS_0 = TopicPartition("p.events", 0)
EVENTS_1 = TopicPartition("p.events", 1)
COMMANDS_0 = TopicPartition("p.commands", 0)


def test_a_replay_from_a_time_moves_positions_back_to_the_first_record_at_that_time() -> None:
    assert rewind({EVENTS_0: 50}, {EVENTS_0: 20}) == {EVENTS_0: 20}


def test_a_time_after_the_stored_position_never_moves_it_forward() -> None:
    # Moving forward would skip records 50..79 that were never applied.
    assert rewind({EVENTS_0: 50}, {EVENTS_0: 80}) == {EVENTS_0: 50}


def test_a_partition_without_records_after_the_time_keeps_its_position() -> None:
    assert rewind({EVENTS_0: 50, EVENTS_1: 7}, {EVENTS_0: None, EVENTS_1: 3}) == {
        EVENTS_0: 50,
        EVENTS_1: 3,
    }


def test_a_partition_never_projected_stays_unknown_and_so_starts_at_the_beginning() -> None:
    assert rewind({}, {COMMANDS_0: 5}) == {}


def test_the_work_left_counts_unknown_partitions_from_zero() -> None:
    assert records_between({EVENTS_0: 10}, {EVENTS_0: 25, EVENTS_1: 5, COMMANDS_0: 0}) == 20


def test_positions_past_the_end_count_as_no_work() -> None:
    assert records_between({EVENTS_0: 30}, {EVENTS_0: 25}) == 0


@dataclass(frozen=True)
class Unreachable:
    """Settings pointing nowhere: these calls must fail before any I/O."""

    kafka_bootstrap: str = "127.0.0.1:1"
    kafka: KafkaConnection = field(default_factory=lambda: KafkaConnection(bootstrap="127.0.0.1:1"))
    dsn: str = "postgresql://nobody@127.0.0.1:1/none"
    db_schema: str = "unused"
    topics: Topics = field(default_factory=lambda: Topics("unused"))


async def test_a_replay_needs_exactly_one_starting_point() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        await replay(Unreachable(), from_beginning=True, from_time=datetime.now(UTC))
    with pytest.raises(ValueError, match="exactly one"):
        await replay(Unreachable())


async def test_a_replay_of_an_unknown_projection_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown projection 'raed_model'"):
        await replay(Unreachable(), "raed_model", from_beginning=True)
