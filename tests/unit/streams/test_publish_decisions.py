"""The queue item's publishing rules: one start per attempt, results only for it, retries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.base import Event
from schemas.commands import CancelItem, EnqueueItem, RescheduleItem
from schemas.events import ItemEnqueued, ItemRescheduled
from schemas.publishing import (
    CompletePublish,
    FailPublishAttempt,
    ItemFailed,
    ItemPublished,
    ItemRetried,
    ItemUnconfirmed,
    MarkPublished,
    PublishAttemptFailed,
    PublishCheckpointed,
    PublishReconciled,
    PublishStarted,
    RecordPublishCheckpoint,
    RecordReconciliation,
    RetryItem,
    StartPublish,
)
from streams.domain.common import Decision
from streams.domain.queue import QueueItemState, decide, evolve

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CONNECTION = uuid.uuid4()


def enqueued(at: datetime = NOW) -> QueueItemState:
    event = ItemEnqueued(
        platform="webhook",
        title="t",
        description="",
        project_id=None,
        asset_id=None,
        schedule_at=at,
        timezone="UTC",
        target={},
        connection_id=CONNECTION,
    )
    return evolve(None, event)


def start(attempt: int = 1, attempt_id: str = "att_1") -> StartPublish:
    return StartPublish(attempt=attempt, attempt_id=attempt_id, adapter="webhook", fingerprint="f")


def fold(state: QueueItemState, decision: Decision) -> QueueItemState:
    assert decision.outcome == "applied", decision
    for event in decision.events:
        state = evolve(state, event)
    return state


def publishing(attempt: int = 1) -> QueueItemState:
    state = enqueued()
    for n in range(1, attempt + 1):
        state = fold(state, decide(start(n, f"att_{n}"), state, NOW))
        if n < attempt:
            state = fold(state, decide(fail(n, "transient", NOW), state, NOW))
    return state


def fail(attempt: int, error_class: Any, next_at: datetime | None, **kw: Any) -> FailPublishAttempt:
    return FailPublishAttempt(
        attempt=attempt,
        attempt_id=f"att_{attempt}",
        error_class=error_class,
        platform_status=500,
        summary="boom",
        next_attempt_at=next_at,
        **kw,
    )


def types(decision: Decision) -> list[type[Event]]:
    return [type(e) for e in decision.events]


def test_a_due_item_starts_its_first_attempt_and_becomes_publishing() -> None:
    decision = decide(start(), enqueued(), NOW)
    assert types(decision) == [PublishStarted]
    state = fold(enqueued(), decision)
    assert (state.status, state.attempt) == ("publishing", 1)


def test_the_same_attempt_started_again_is_a_duplicate() -> None:
    decision = decide(start(), publishing(), NOW)
    assert decision.outcome == "duplicate"


def test_an_attempt_that_skips_a_number_is_refused() -> None:
    decision = decide(start(2), enqueued(), NOW)
    assert (decision.outcome, decision.status) == ("rejected", 409)


def test_an_item_is_not_started_before_it_is_due() -> None:
    decision = decide(start(), enqueued(NOW + timedelta(minutes=5)), NOW)
    assert (decision.outcome, decision.status) == ("rejected", 409)
    assert "not due" in (decision.reason or "")


def test_a_cancelled_item_is_never_started() -> None:
    cancelled = fold(enqueued(), decide(CancelItem(), enqueued(), NOW))
    decision = decide(start(), cancelled, NOW)
    assert (decision.outcome, decision.status) == ("rejected", 409)


def test_an_item_without_a_connection_is_not_started() -> None:
    state = enqueued().model_copy(update={"connection_id": None})
    decision = decide(start(), state, NOW)
    assert (decision.outcome, decision.status) == ("rejected", 422)


def test_cancel_and_reschedule_are_refused_once_publishing_started() -> None:
    cancel = decide(CancelItem(), publishing(), NOW)
    move = decide(RescheduleItem(schedule_at=NOW + timedelta(hours=1)), publishing(), NOW)
    assert (cancel.outcome, cancel.status) == ("rejected", 409)
    assert (move.outcome, move.status) == ("rejected", 409)


def test_completing_the_attempt_in_progress_publishes_the_item() -> None:
    command = CompletePublish(attempt=1, post_id="p1", url="https://x.test/p1")
    decision = decide(command, publishing(), NOW)
    assert types(decision) == [ItemPublished]
    assert fold(publishing(), decision).status == "published"
    again = decide(command, fold(publishing(), decision), NOW)
    assert again.outcome == "duplicate"


def test_a_post_found_by_reconciliation_is_recorded_as_such() -> None:
    state = publishing(2).model_copy(update={"reconcile_attempt_id": "att_1"})
    decision = decide(CompletePublish(attempt=2, post_id="p", reconciled=True), state, NOW)
    assert types(decision) == [PublishReconciled, ItemPublished]
    found = decision.events[0]
    assert isinstance(found, PublishReconciled)
    assert (found.attempt_id, found.finding) == ("att_1", "published")


def test_a_transient_failure_with_a_next_time_retries_then() -> None:
    later = NOW + timedelta(seconds=30)
    decision = decide(fail(1, "transient", later), publishing(), NOW)
    assert types(decision) == [PublishAttemptFailed]
    state = fold(publishing(), decision)
    assert (state.status, state.due, state.failures) == ("retrying", later, 1)
    assert decide(start(2, "att_2"), state, later).outcome == "applied"
    assert decide(start(2, "att_2"), state, NOW).outcome == "rejected"  # not due yet


def test_a_failure_without_a_next_time_fails_the_item_with_its_reason() -> None:
    command = fail(1, "permanent", None, reason="reconnect the account", connection_broken=True)
    decision = decide(command, publishing(), NOW)
    assert types(decision) == [PublishAttemptFailed, ItemFailed]
    ended = decision.events[1]
    assert isinstance(ended, ItemFailed)
    assert (ended.reason, ended.connection_broken) == ("reconnect the account", True)
    assert fold(publishing(), decision).status == "failed"


def test_a_late_failure_report_of_an_earlier_attempt_changes_nothing() -> None:
    decision = decide(fail(1, "transient", NOW), publishing(2), NOW)
    assert (decision.outcome, decision.events) == ("duplicate", ())


def test_quota_reschedules_to_the_reset_with_the_reason_and_keeps_the_retry_budget() -> None:
    reset = NOW + timedelta(hours=8)
    decision = decide(fail(1, "quota", reset), publishing(), NOW)
    assert types(decision) == [PublishAttemptFailed, ItemRescheduled]
    moved = decision.events[1]
    assert isinstance(moved, ItemRescheduled)
    assert moved.schedule_at == reset and "quota" in (moved.reason or "")
    state = fold(publishing(), decision)
    assert (state.status, state.due, state.failures) == ("scheduled", reset, 0)


def test_an_unknown_outcome_is_reconciled_before_the_next_attempt() -> None:
    later = NOW + timedelta(seconds=5)
    state = fold(publishing(), decide(fail(1, "unknown-outcome", later), publishing(), NOW))
    assert state.reconcile_attempt_id == "att_1"
    decision = decide(start(2, "att_2"), state, later)
    [started] = decision.events
    assert isinstance(started, PublishStarted)
    assert started.reconcile_attempt_id == "att_1"


def test_an_unknown_outcome_out_of_attempts_waits_for_an_operator_instead_of_failing() -> None:
    decision = decide(fail(1, "unknown-outcome", None), publishing(), NOW)
    attempt_failed, ended = decision.events
    assert isinstance(attempt_failed, PublishAttemptFailed)
    assert isinstance(ended, ItemUnconfirmed) and "look on the platform" in ended.reason
    state = fold(publishing(), decision)
    assert (state.status, state.due_at, state.reconcile_attempt_id) == (
        "unconfirmed",
        None,
        "att_1",
    )


def test_an_operator_marks_only_an_unconfirmed_item_published() -> None:
    unconfirmed = fold(publishing(), decide(fail(1, "unknown-outcome", None), publishing(), NOW))
    mark = MarkPublished(post_id="p1", url="https://example.test/p1")
    decision = decide(mark, unconfirmed, NOW)
    [published] = decision.events
    assert isinstance(published, ItemPublished) and (published.attempt, published.post_id) == (
        1,
        "p1",
    )
    state = fold(unconfirmed, decision)
    assert state.status == "published"
    assert decide(mark, state, NOW).outcome == "duplicate"
    refused = decide(mark, publishing(), NOW)
    assert (refused.outcome, refused.status) == ("rejected", 409)


def test_only_a_definite_answer_about_the_doubtful_attempt_clears_the_doubt() -> None:
    doubtful = publishing(2).model_copy(update={"reconcile_attempt_id": "att_1"})
    # Attempt 2 reported unsent (a stale start): says nothing about attempt 1.
    state = fold(doubtful, decide(fail(2, "transient", NOW), doubtful, NOW))
    assert state.reconcile_attempt_id == "att_1"
    # A definite answer under the doubtful attempt's own id settles it.
    settled = doubtful.model_copy(update={"reconcile_attempt_id": "att_2"})
    state = fold(settled, decide(fail(2, "transient", NOW), settled, NOW))
    assert state.reconcile_attempt_id is None


def test_not_published_clears_the_doubt_and_cannot_know_makes_the_item_unconfirmed() -> None:
    doubtful = publishing(2).model_copy(update={"reconcile_attempt_id": "att_1"})
    clear = RecordReconciliation(attempt=2, attempt_id="att_1", finding="not-published")
    assert fold(doubtful, decide(clear, doubtful, NOW)).reconcile_attempt_id is None
    unknown = RecordReconciliation(attempt=2, attempt_id="att_1", finding="cannot-know")
    decision = decide(unknown, doubtful, NOW)
    assert types(decision) == [PublishReconciled, ItemUnconfirmed]
    assert fold(doubtful, decision).status == "unconfirmed"


def test_a_found_post_is_not_a_reconciliation_record() -> None:
    command = RecordReconciliation(attempt=1, attempt_id="att_1", finding="published")
    assert decide(command, publishing(), NOW).status == 422


def test_a_checkpoint_is_kept_for_the_next_attempt() -> None:
    command = RecordPublishCheckpoint(attempt=1, session={"upload_url": "u"})
    decision = decide(command, publishing(), NOW)
    assert types(decision) == [PublishCheckpointed]
    state = fold(publishing(), decision)
    assert state.session == {"upload_url": "u"}
    assert decide(command, state, NOW).outcome == "duplicate"


def test_retry_requeues_a_failed_item_with_a_fresh_series_and_new_attempt_numbers() -> None:
    failed = fold(publishing(), decide(fail(1, "permanent", None), publishing(), NOW))
    later = NOW + timedelta(minutes=1)
    decision = decide(RetryItem(), failed, later)
    assert types(decision) == [ItemRetried]
    state = fold(failed, decision)
    assert (state.status, state.due, state.failures, state.attempt) == (
        "scheduled",
        later,
        0,
        1,
    )
    assert decide(start(2, "att_2"), state, later).outcome == "applied"


def test_retry_of_an_item_that_did_not_fail_is_a_conflict() -> None:
    for state in (enqueued(), publishing()):
        decision = decide(RetryItem(), state, NOW)
        assert (decision.outcome, decision.status) == ("rejected", 409)


def test_publishing_commands_on_an_unknown_item_are_not_found() -> None:
    assert decide(start(), None, NOW).status == 404


def test_enqueue_refuses_a_connection_of_another_platform_or_organization() -> None:
    other = EnqueueItem(
        platform="youtube", title="t", connection_id=CONNECTION, connection_platform="discord"
    )
    missing = EnqueueItem(platform="youtube", title="t", connection_id=CONNECTION)
    assert (decide(other, None, NOW).status, decide(missing, None, NOW).status) == (422, 404)
    assert "connection_id" in (decide(other, None, NOW).reason or "")


def test_enqueue_keeps_the_utc_instant_the_connection_and_the_local_text() -> None:
    local = datetime.fromisoformat("2026-07-01T09:00:00+02:00")
    command = EnqueueItem(
        platform="webhook",
        title="t",
        schedule_at=local,
        timezone="Europe/Paris",
        schedule_local="2026-07-01T09:00:00+02:00",
        connection_id=CONNECTION,
        connection_platform="webhook",
    )
    [event] = decide(command, None, NOW).events
    assert isinstance(event, ItemEnqueued)
    assert event.schedule_at.utcoffset() == timedelta(0)
    assert event.schedule_at == local
    assert (event.connection_id, event.schedule_local) == (CONNECTION, command.schedule_local)
