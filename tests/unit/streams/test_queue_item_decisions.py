"""The queue item's pure decide/evolve: every transition, duplicate and refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.commands import CancelItem, EnqueueItem, RescheduleItem
from schemas.events import ItemCancelled, ItemEnqueued, ItemRescheduled
from streams.domain.queue import QueueItemState, QueueStatus, decide, evolve

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)


def state(status: QueueStatus = "scheduled", at: datetime = LATER) -> QueueItemState:
    return QueueItemState(status=status, schedule_at=at)


def test_enqueue_on_an_absent_item_enqueues_it_at_the_requested_time() -> None:
    command = EnqueueItem(platform="youtube", title="Launch", schedule_at=LATER, target={"a": 1})
    decision = decide(command, None, NOW)
    assert decision.outcome == "applied"
    [event] = decision.events
    assert isinstance(event, ItemEnqueued)
    assert event.schedule_at == LATER
    assert event.target == {"a": 1}


def test_enqueue_without_a_time_is_scheduled_when_the_command_was_issued() -> None:
    decision = decide(EnqueueItem(platform="x", title="Now"), None, NOW)
    [event] = decision.events
    assert isinstance(event, ItemEnqueued)
    assert event.schedule_at == NOW


def test_enqueue_on_an_existing_item_is_rejected_as_a_conflict() -> None:
    decision = decide(EnqueueItem(platform="x", title="Again"), state(), NOW)
    assert (decision.outcome, decision.status, decision.events) == ("rejected", 409, ())


@pytest.mark.parametrize("status", ["scheduled", "retrying"])
def test_a_scheduled_or_retrying_item_can_be_cancelled(status: QueueStatus) -> None:
    decision = decide(CancelItem(reason="changed my mind"), state(status), NOW)
    assert decision.outcome == "applied"
    assert decision.events == (ItemCancelled(reason="changed my mind"),)


def test_cancelling_a_cancelled_item_is_a_duplicate() -> None:
    decision = decide(CancelItem(), state("cancelled"), NOW)
    assert (decision.outcome, decision.events) == ("duplicate", ())


@pytest.mark.parametrize("status", ["publishing", "published", "failed"])
def test_an_item_past_scheduling_cannot_be_cancelled(status: QueueStatus) -> None:
    decision = decide(CancelItem(), state(status), NOW)
    assert (decision.outcome, decision.status, decision.events) == ("rejected", 409, ())
    assert decision.reason is not None and status in decision.reason


def test_cancelling_an_unknown_item_is_not_found() -> None:
    decision = decide(CancelItem(), None, NOW)
    assert (decision.outcome, decision.status) == ("rejected", 404)


@pytest.mark.parametrize("status", ["scheduled", "retrying"])
def test_a_scheduled_or_retrying_item_can_be_rescheduled(status: QueueStatus) -> None:
    new_time = LATER + timedelta(days=1)
    decision = decide(RescheduleItem(schedule_at=new_time), state(status), NOW)
    assert decision.events == (ItemRescheduled(schedule_at=new_time),)


def test_rescheduling_to_the_time_already_set_is_a_duplicate() -> None:
    same_instant_other_zone = LATER.astimezone(tz=None)
    decision = decide(RescheduleItem(schedule_at=same_instant_other_zone), state(), NOW)
    assert (decision.outcome, decision.events) == ("duplicate", ())


@pytest.mark.parametrize("status", ["cancelled", "publishing", "published", "failed"])
def test_an_item_not_waiting_cannot_be_rescheduled(status: QueueStatus) -> None:
    decision = decide(RescheduleItem(schedule_at=NOW), state(status), NOW)
    assert (decision.outcome, decision.status) == ("rejected", 409)


def test_rescheduling_an_unknown_item_is_not_found() -> None:
    decision = decide(RescheduleItem(schedule_at=NOW), None, NOW)
    assert (decision.outcome, decision.status) == ("rejected", 404)


def test_evolve_folds_enqueue_reschedule_and_cancel_into_the_state() -> None:
    enqueued = ItemEnqueued(
        platform="x",
        title="t",
        description="",
        project_id=None,
        asset_id=None,
        schedule_at=LATER,
        timezone="UTC",
        target={},
    )
    s = evolve(None, enqueued)
    assert (s.status, s.schedule_at, s.platform) == ("scheduled", LATER, "x")
    s = evolve(s, ItemRescheduled(schedule_at=NOW))
    assert (s.status, s.schedule_at) == ("scheduled", NOW)
    s = evolve(s, ItemCancelled(reason=""))
    assert (s.status, s.schedule_at) == ("cancelled", NOW)


def test_evolve_refuses_an_event_on_an_item_that_does_not_exist() -> None:
    with pytest.raises(ValueError, match="cannot apply"):
        evolve(None, ItemCancelled(reason=""))


def test_the_same_command_and_state_always_decide_the_same() -> None:
    command = EnqueueItem(platform="tiktok", title="Same")
    assert decide(command, None, NOW) == decide(command, None, NOW)
