"""Readiness: where the process stands in its group, and what it cannot reach."""

from __future__ import annotations

from types import SimpleNamespace

from aiokafka import TopicPartition

from probes.health import (
    KAFKA_GRACE_SECONDS,
    KAFKA_UNREACHABLE,
    LOOP_STALLED,
    POSTGRES_UNREACHABLE,
    REBALANCING,
    RESTORING,
    STARTING,
    STOPPING,
    Health,
    coordinator_lost,
)

P0, P1 = TopicPartition("p.commands", 0), TopicPartition("p.commands", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def beating() -> tuple[Health, Clock]:
    clock = Clock()
    health = Health(clock)
    health.beat()
    return health, clock


def reason(health: Health) -> str | None:
    answer = health.readiness()
    return None if answer.status == 200 else str(answer.body["reason"])


def test_a_process_is_starting_until_its_first_assignment() -> None:
    health, _ = beating()
    assert reason(health) == STARTING
    health.rebalancing()  # aiokafka revokes nothing on the first join, but says so
    answer = health.readiness()
    assert answer.status == 503
    assert answer.body["reason"] == STARTING
    assert answer.body["detail"] == "joining the consumer group"


def test_it_is_not_ready_while_restoring_and_ready_once_assigned() -> None:
    health, clock = beating()
    health.restoring({P1, P0})
    answer = health.readiness()
    assert answer.status == 503
    assert answer.body["reason"] == RESTORING
    assert "2 partition(s)" in answer.body["detail"]
    clock.now += 4
    health.assigned({P1, P0})
    answer = health.readiness()
    assert answer.status == 200
    assert answer.body["partitions"] == ["p.commands:0", "p.commands:1"]
    assert answer.body["standby"] is False
    clock.now += 2
    assert health.readiness().body["since_seconds"] == 2


def test_every_later_rebalance_makes_it_unready_until_the_restore_is_done() -> None:
    health, _ = beating()
    health.assigned({P0})
    health.rebalancing()
    assert reason(health) == REBALANCING
    health.restoring({P0, P1})
    assert reason(health) == RESTORING
    health.assigned({P0, P1})
    assert reason(health) is None


def test_a_member_without_partitions_is_a_ready_standby() -> None:
    health, _ = beating()
    health.restoring(set())
    health.assigned(set())
    answer = health.readiness()
    assert answer.status == 200
    assert answer.body["standby"] is True
    assert answer.body["partitions"] == []
    assert "standby" in answer.body["detail"]


def test_a_dependency_that_fails_makes_it_unready_and_is_named_until_it_recovers() -> None:
    health, _ = beating()
    health.assigned({P0})
    health.failing(POSTGRES_UNREACHABLE, "ConnectionRefusedError(111)")
    answer = health.readiness()
    assert answer.status == 503
    assert answer.body["reason"] == POSTGRES_UNREACHABLE
    assert answer.body["problems"] == {POSTGRES_UNREACHABLE: "ConnectionRefusedError(111)"}
    assert answer.body["phase"] == "ready"
    health.recovered(KAFKA_UNREACHABLE)  # another reason: this one stays
    assert reason(health) == POSTGRES_UNREACHABLE
    health.recovered(POSTGRES_UNREACHABLE)
    assert reason(health) is None


def test_recovered_without_a_reason_clears_every_failure() -> None:
    health, _ = beating()
    health.assigned({P0})
    health.failing(POSTGRES_UNREACHABLE, "down")
    health.failing(KAFKA_UNREACHABLE, "down too")
    health.recovered()
    assert reason(health) is None


def test_a_failure_while_starting_names_the_failure_rather_than_starting() -> None:
    health, _ = beating()
    health.failing(POSTGRES_UNREACHABLE, "ConnectionRefusedError(111)")
    answer = health.readiness()
    assert answer.body["reason"] == POSTGRES_UNREACHABLE
    assert answer.body["phase"] == STARTING


def test_a_stalled_loop_is_never_ready() -> None:
    health, clock = beating()
    health.assigned({P0})
    clock.now += health.stale_after + 1
    assert reason(health) == LOOP_STALLED


def test_no_heartbeat_yet_is_starting_whatever_was_reported() -> None:
    health = Health(Clock())
    health.assigned({P0})
    assert reason(health) == STARTING


def test_stopping_stays_unready_whatever_the_group_does_meanwhile() -> None:
    health, _ = beating()
    health.assigned({P0})
    health.stopping()
    assert reason(health) == STOPPING
    health.rebalancing()
    health.assigned({P0})
    assert reason(health) == STOPPING


def test_a_lost_coordinator_is_kafka_unreachable_only_after_the_grace() -> None:
    health, clock = beating()
    coordinator = SimpleNamespace(coordinator_id=1)
    health.watch_group(SimpleNamespace(_coordinator=coordinator))
    health.assigned({P0})
    coordinator.coordinator_id = None  # a request to it failed
    health.beat()
    clock.now += KAFKA_GRACE_SECONDS - 1
    health.beat()
    assert reason(health) is None  # a coordinator moving to another broker
    clock.now += 1
    health.beat()
    answer = health.readiness()
    assert answer.body["reason"] == KAFKA_UNREACHABLE
    assert "coordinator" in answer.body["detail"]
    coordinator.coordinator_id = 2
    health.beat()
    assert reason(health) is None


def test_the_coordinator_is_not_watched_before_the_first_assignment() -> None:
    health, clock = beating()
    health.watch_group(SimpleNamespace(_coordinator=SimpleNamespace(coordinator_id=None)))
    health.beat()
    clock.now += KAFKA_GRACE_SECONDS * 3
    health.beat()
    assert reason(health) == STARTING


def test_a_check_that_raises_does_not_stop_the_heartbeat() -> None:
    health, clock = beating()

    def broken() -> str | None:
        raise RuntimeError("bug")

    health.watch("broken", broken, grace=0)
    health.assigned({P0})
    clock.now += 1
    health.beat()
    health.beat()
    assert health.liveness().status == 200
    assert reason(health) is None


def test_coordinator_lost_reads_aiokafkas_state_and_never_guesses() -> None:
    assert coordinator_lost(SimpleNamespace(_coordinator=None)) is None  # not started
    assert coordinator_lost(SimpleNamespace(_coordinator=SimpleNamespace())) is None  # no group
    assert coordinator_lost(SimpleNamespace(_coordinator=SimpleNamespace(coordinator_id=3))) is None
    lost = coordinator_lost(SimpleNamespace(_coordinator=SimpleNamespace(coordinator_id=None)))
    assert lost is not None
    assert coordinator_lost(object()) is None
