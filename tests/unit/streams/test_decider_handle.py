"""The decider's pure core: envelopes, ids, sequences, outcomes, redelivery and conflicts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from schemas.agent_commands import StartClip
from schemas.base import Command
from schemas.codec import decode, encode, read, wrap
from schemas.commands import CancelItem, CreateProject, EnqueueItem, RegisterAsset, RescheduleItem
from schemas.envelope import Actor, Envelope
from schemas.ids import aggregate_id_for, command_id_for, derived_id, event_id_for, fingerprint
from streams.decider.handle import Result
from streams.decider.handle import handle as handle_decoded
from streams.decider.record import (
    KEPT_DECISIONS,
    RECENT_DECISIONS,
    AggregateRecord,
    StoredDecision,
    dump_record,
    load_record,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACTOR = Actor(sub="bot-7", kind="bot")


def creating(org: str, key: str, command: Command, at: datetime = T0) -> Envelope:
    command_id = command_id_for(org, key)
    return envelope(org, command, command_id, aggregate_id_for(command_id), at)


def addressing(org: str, aggregate_id: uuid.UUID, command: Command) -> Envelope:
    return envelope(org, command, uuid.uuid4(), aggregate_id, T0 + timedelta(minutes=1))


def envelope(
    org: str, command: Command, command_id: uuid.UUID, aggregate_id: uuid.UUID, at: datetime
) -> Envelope:
    return wrap(
        command,
        id=command_id,
        org_id=org,
        aggregate_id=aggregate_id,
        occurred_at=at,
        command_id=command_id,
        correlation_id=uuid.uuid5(command_id, "correlation"),
        causation_id=command_id,
        actor=ACTOR,
    )


def handle(command: Envelope, record: AggregateRecord | None) -> Result:
    """The decider reads each command once off the log, then decides it."""
    return handle_decoded(read(encode(command)), record)


def produced(result: Result) -> list[Envelope]:
    return [decode(v) for v in result.values]


ENQUEUE = EnqueueItem(platform="youtube", title="Launch day")


def enqueued(org: str = "org-a", key: str = "key-1") -> tuple[Envelope, AggregateRecord]:
    command = creating(org, key, ENQUEUE)
    result = handle(command, None)
    assert result.record is not None
    return command, result.record


def test_an_enqueue_produces_the_item_event_then_its_applied_outcome() -> None:
    command = creating("org-a", "key-1", ENQUEUE)
    result = handle(command, None)
    event, outcome = produced(result)
    assert result.kind == "decided"
    assert result.key == str(command.aggregate_id).encode()
    assert (event.type, event.id, event.sequence) == (
        "queue.ItemEnqueued",
        event_id_for(command.command_id, 0),
        1,
    )
    assert event.aggregate_id == command.aggregate_id
    assert (event.occurred_at, event.command_id, event.causation_id) == (
        command.occurred_at,
        command.command_id,
        command.id,
    )
    assert (event.correlation_id, event.actor, event.org_id) == (
        command.correlation_id,
        ACTOR,
        "org-a",
    )
    assert event.data["schedule_at"] == T0.isoformat().replace("+00:00", "Z")
    assert outcome.type == "command.CommandOutcomeRecorded"
    assert outcome.id == event_id_for(command.command_id, 1)
    assert (outcome.aggregate_type, outcome.aggregate_id, outcome.sequence) == (
        "command",
        command.command_id,
        1,
    )
    assert outcome.data["outcome"] == "applied"
    assert outcome.data["event_ids"] == [str(event.id)]
    assert outcome.data["fingerprint"] == fingerprint(command.type, command.data)
    assert outcome.data["target_aggregate_id"] == str(command.aggregate_id)


def test_the_record_keeps_state_owner_sequence_and_the_decision() -> None:
    command, record = enqueued()
    assert (record.aggregate_type, record.org_id, record.sequence) == ("queue_item", "org-a", 1)
    assert record.state is not None and record.state["status"] == "scheduled"
    assert record.creator == str(command.command_id)
    assert record.decisions[str(command.command_id)].outcome == "applied"


def test_later_events_continue_the_aggregates_sequence() -> None:
    command, record = enqueued()
    cancel = addressing("org-a", command.aggregate_id, CancelItem(reason="no"))
    result = handle(cancel, record)
    event, outcome = produced(result)
    assert (event.type, event.sequence, event.id) == (
        "queue.ItemCancelled",
        2,
        event_id_for(cancel.command_id, 0),
    )
    assert outcome.id == event_id_for(cancel.command_id, 1)
    assert result.record is not None and result.record.sequence == 2
    assert result.record.state is not None and result.record.state["status"] == "cancelled"


def test_a_redelivered_command_gets_its_stored_envelopes_byte_for_byte() -> None:
    command = creating("org-a", "key-1", ENQUEUE)
    first = handle(command, None)
    again = handle(command, first.record)
    assert again.kind == "redelivered"
    assert again.values == first.values
    assert again.record is None
    assert again.outcome == "applied"


def test_a_client_retry_issued_later_still_gets_the_first_answer() -> None:
    first = handle(creating("org-a", "key-1", ENQUEUE, at=T0), None)
    retry = handle(creating("org-a", "key-1", ENQUEUE, at=T0 + timedelta(hours=1)), first.record)
    assert retry.values == first.values


def test_the_same_key_with_another_body_gets_a_conflict_refusal_and_no_second_outcome() -> None:
    command, record = enqueued()
    other = creating("org-a", "key-1", EnqueueItem(platform="x", title="Other body"))
    result = handle(other, record)
    [refusal] = produced(result)
    assert result.kind == "conflict"
    assert result.record is None
    assert refusal.type == "command.CommandConflictRejected"
    other_print = fingerprint(other.type, other.data)
    request_id = derived_id(command.command_id, f"conflict:{other_print}")
    assert (refusal.aggregate_id, refusal.sequence) == (request_id, 1)
    assert refusal.id == event_id_for(request_id, 0)
    assert refusal.data["status"] == 422
    assert refusal.data["decided_fingerprint"] == fingerprint(command.type, command.data)
    assert handle(other, record).values == result.values


def test_another_organizations_aggregate_answers_not_found_and_stays_untouched() -> None:
    command, record = enqueued(org="org-a")
    intruder = addressing("org-b", command.aggregate_id, CancelItem())
    result = handle(intruder, record)
    [outcome] = produced(result)
    assert (outcome.data["outcome"], outcome.data["status"]) == ("rejected", 404)
    assert outcome.org_id == "org-b"
    assert result.record is not None
    assert (result.record.state, result.record.sequence) == (record.state, record.sequence)


def test_a_creating_command_on_a_taken_id_with_another_command_id_is_a_conflict() -> None:
    command, record = enqueued()
    stranger = envelope("org-a", ENQUEUE, uuid.uuid4(), command.aggregate_id, T0)
    [outcome] = produced(handle(stranger, record))
    assert (outcome.data["outcome"], outcome.data["status"]) == ("rejected", 409)


def test_commands_for_another_aggregate_type_do_not_touch_the_aggregate() -> None:
    project_cmd = creating("org-a", "p-1", CreateProject(name="S2"))
    project = handle(project_cmd, None).record
    cancel = addressing("org-a", project_cmd.aggregate_id, CancelItem())
    [not_found] = produced(handle(cancel, project))
    assert (not_found.data["outcome"], not_found.data["status"]) == ("rejected", 404)
    squat = envelope("org-a", ENQUEUE, uuid.uuid4(), project_cmd.aggregate_id, T0)
    [taken] = produced(handle(squat, project))
    assert (taken.data["outcome"], taken.data["status"]) == ("rejected", 409)


def test_a_create_project_is_applied_with_its_event() -> None:
    command = creating("org-a", "p-1", CreateProject(name="S2"))
    event, outcome = produced(handle(command, None))
    assert (event.type, event.data, event.sequence) == ("project.ProjectCreated", {"name": "S2"}, 1)
    assert outcome.data["target_aggregate_type"] == "project"


def test_a_register_asset_is_applied_as_a_registration_request_on_a_new_asset() -> None:
    command = creating("org-a", "a-1", RegisterAsset(path="in/video.mp4"))
    result = handle(command, None)
    event, outcome = produced(result)
    assert (event.type, event.aggregate_type, event.sequence) == (
        "asset.AssetRegistrationRequested",
        "asset",
        1,
    )
    assert outcome.data["outcome"] == "applied"
    assert outcome.data["target_aggregate_type"] == "asset"
    assert result.record is not None and result.record.state == {
        "status": "probing",
        "path": "in/video.mp4",
        "kind": "video",
        "title": "",
        "project_id": None,
        "thumbnail_path": None,
    }


def test_an_agent_command_on_another_aggregate_type_is_answered_as_not_found() -> None:
    command, record = enqueued()
    probe = addressing("org-a", command.aggregate_id, StartClip(attempt=1))
    [outcome] = produced(handle(probe, record))
    assert (outcome.data["outcome"], outcome.data["status"]) == ("rejected", 404)
    assert outcome.data["reason"] == "clip not found"


def test_a_duplicate_cancel_emits_only_its_outcome_and_keeps_the_sequence() -> None:
    command, record = enqueued()
    first = handle(addressing("org-a", command.aggregate_id, CancelItem()), record)
    assert first.record is not None
    second = handle(addressing("org-a", command.aggregate_id, CancelItem()), first.record)
    [outcome] = produced(second)
    assert outcome.data["outcome"] == "duplicate"
    assert outcome.data["event_ids"] == []
    assert second.record is not None and second.record.sequence == 2


def test_a_rejection_of_an_absent_aggregate_is_remembered_for_its_redelivery() -> None:
    target = aggregate_id_for(command_id_for("org-a", "later"))
    early_cancel = addressing("org-a", target, CancelItem())
    rejected = handle(early_cancel, None)
    assert rejected.record is not None and not rejected.record.exists
    created = handle(creating("org-a", "later", ENQUEUE), rejected.record)
    redelivered = handle(early_cancel, created.record)
    assert redelivered.kind == "redelivered"
    assert redelivered.values == rejected.values


def test_the_same_command_and_record_always_give_the_same_result() -> None:
    command, record = enqueued()
    reschedule = addressing("org-a", command.aggregate_id, RescheduleItem(schedule_at=T0))
    assert handle(reschedule, record) == handle(reschedule, record)


def test_a_record_survives_the_json_round_trip_of_the_changelog() -> None:
    _, record = enqueued()
    assert load_record(dump_record(record)) == record
    assert load_record(None) is None


def test_old_decisions_lose_their_envelopes_then_their_place_but_never_the_creator() -> None:
    command, record = enqueued()
    decision = StoredDecision(fingerprint="f", outcome="duplicate", envelopes=["{}"])
    for i in range(KEPT_DECISIONS + 5):
        record = record.model_copy(update={"decisions": record.remember(f"cmd-{i}", decision)})
    ids = list(record.decisions)
    assert len(ids) == KEPT_DECISIONS
    assert ids[0] == str(command.command_id)
    with_envelopes = [i for i in ids if record.decisions[i].envelopes is not None]
    assert with_envelopes == ids[-RECENT_DECISIONS:]


def test_a_redelivery_whose_envelopes_were_trimmed_sends_nothing_again() -> None:
    command, record = enqueued()
    stored = record.decisions[str(command.command_id)].model_copy(update={"envelopes": None})
    trimmed = record.model_copy(update={"decisions": {str(command.command_id): stored}})
    result = handle(command, trimmed)
    assert (result.kind, result.values, result.outcome) == ("redelivered", (), "applied")


def test_envelopes_beyond_the_byte_budget_are_not_kept() -> None:
    _, record = enqueued()
    big = StoredDecision(fingerprint="f", outcome="applied", envelopes=["x" * 300_000])
    for i in range(3):
        record = record.model_copy(update={"decisions": record.remember(f"big-{i}", big)})
    kept = [i for i, d in record.decisions.items() if d.envelopes is not None]
    assert kept == ["big-2"]
    assert len(json.loads(dump_record(record))["decisions"]) == 4
