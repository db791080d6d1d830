"""The decider as a real worker process on real Kafka: commands in, events and DLQ out."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from schemas import dlq
from schemas.codec import encode
from schemas.commands import CancelItem, CreateProject, EnqueueItem, RegisterAsset, RescheduleItem
from schemas.envelope import Envelope
from schemas.ids import event_id_for
from tests.integration.streams.helpers import (
    Stack,
    TopicReader,
    addressing,
    creating,
    produce,
    send_commands,
)

REFUSAL = "command.CommandConflictRejected"


def org() -> str:
    return f"org-{uuid.uuid4().hex[:8]}"


async def outcome_of(stack: Stack, command: Envelope) -> Envelope:
    await stack.events.wait_until(lambda r: command.command_id in r.outcomes())
    return stack.events.outcomes()[command.command_id][0]


def events_of(reader: TopicReader, command: Envelope) -> list[Envelope]:
    return [
        e
        for e in reader.envelopes
        if e.command_id == command.command_id and e.type != "command.CommandOutcomeRecorded"
    ]


async def test_an_enqueue_command_becomes_item_enqueued_and_an_applied_outcome(
    stack: Stack,
) -> None:
    command = creating(org(), "launch", EnqueueItem(platform="youtube", title="Launch"))
    await send_commands(stack.settings, [command])
    outcome = await outcome_of(stack, command)
    [event] = events_of(stack.events, command)
    assert (event.type, event.aggregate_id, event.sequence) == (
        "queue.ItemEnqueued",
        command.aggregate_id,
        1,
    )
    assert event.id == event_id_for(command.command_id, 0)
    assert outcome.data["outcome"] == "applied"
    assert outcome.data["event_ids"] == [str(event.id)]
    keys = {r.key for r in stack.events.records if r.envelope in (event, outcome)}
    assert keys == {str(command.aggregate_id).encode()}


async def test_the_same_command_sent_twenty_times_has_one_event_id_and_one_outcome_id(
    stack: Stack,
) -> None:
    command = creating(org(), "retry-storm", EnqueueItem(platform="x", title="Once"))
    await send_commands(stack.settings, [command] * 20)
    await stack.events.wait_until(lambda r: len(r.outcomes().get(command.command_id, [])) >= 20)
    outcomes = stack.events.outcomes()[command.command_id]
    assert {o.id for o in outcomes} == {event_id_for(command.command_id, 1)}
    assert all(o == outcomes[0] for o in outcomes)
    enqueued = events_of(stack.events, command)
    assert {e.id for e in enqueued} == {event_id_for(command.command_id, 0)}
    assert all(e == enqueued[0] for e in enqueued)


async def test_cancel_is_applied_once_and_a_second_cancel_is_a_duplicate(stack: Stack) -> None:
    tenant = org()
    item = creating(tenant, "to-cancel", EnqueueItem(platform="discord", title="Soon"))
    first = addressing(tenant, item.aggregate_id, CancelItem(reason="typo"))
    second = addressing(tenant, item.aggregate_id, CancelItem())
    await send_commands(stack.settings, [item, first, second])
    assert (await outcome_of(stack, first)).data["outcome"] == "applied"
    assert (await outcome_of(stack, second)).data["outcome"] == "duplicate"
    [cancelled] = events_of(stack.events, first)
    assert (cancelled.type, cancelled.sequence) == ("queue.ItemCancelled", 2)
    assert events_of(stack.events, second) == []


async def test_reschedule_moves_the_item_and_a_cancelled_item_cannot_be_rescheduled(
    stack: Stack,
) -> None:
    tenant = org()
    at = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    item = creating(tenant, "move", EnqueueItem(platform="x", title="Move", schedule_at=at))
    move = addressing(tenant, item.aggregate_id, RescheduleItem(schedule_at=at + timedelta(1)))
    same = addressing(tenant, item.aggregate_id, RescheduleItem(schedule_at=at + timedelta(1)))
    cancel = addressing(tenant, item.aggregate_id, CancelItem())
    late = addressing(tenant, item.aggregate_id, RescheduleItem(schedule_at=at))
    await send_commands(stack.settings, [item, move, same, cancel, late])
    assert (await outcome_of(stack, move)).data["outcome"] == "applied"
    assert (await outcome_of(stack, same)).data["outcome"] == "duplicate"
    refused = await outcome_of(stack, late)
    assert (refused.data["outcome"], refused.data["status"]) == ("rejected", 409)
    [moved] = events_of(stack.events, move)
    assert (moved.sequence, moved.data["schedule_at"]) == (2, "2030-01-02T09:00:00Z")


async def test_another_organization_cannot_touch_an_item(stack: Stack) -> None:
    item = creating(org(), "mine", EnqueueItem(platform="x", title="Mine"))
    intruder = addressing(org(), item.aggregate_id, CancelItem())
    await send_commands(stack.settings, [item, intruder])
    refused = await outcome_of(stack, intruder)
    assert (refused.data["outcome"], refused.data["status"]) == ("rejected", 404)
    assert events_of(stack.events, intruder) == []


async def test_a_reused_key_with_another_body_is_refused_without_a_second_outcome(
    stack: Stack,
) -> None:
    tenant = org()
    first = creating(tenant, "reused", EnqueueItem(platform="x", title="First"))
    other = creating(tenant, "reused", EnqueueItem(platform="x", title="Second"))
    await send_commands(stack.settings, [first, other])
    await stack.events.wait_until(
        lambda r: any(e.command_id == other.command_id for e in r.of_type(REFUSAL))
    )
    [refusal] = [e for e in stack.events.of_type(REFUSAL) if e.command_id == other.command_id]
    assert refusal.data["status"] == 422
    [outcome] = stack.events.outcomes()[first.command_id]
    assert outcome.data["outcome"] == "applied"
    enqueued = [e for e in events_of(stack.events, first) if e.type == "queue.ItemEnqueued"]
    assert [e.data["title"] for e in enqueued] == ["First"]


async def test_projects_are_created_and_asset_registrations_requested(stack: Stack) -> None:
    tenant = org()
    project = creating(tenant, "p", CreateProject(name="Season 2"))
    asset = creating(tenant, "a", RegisterAsset(path="in/video.mp4"))
    await send_commands(stack.settings, [project, asset])
    assert (await outcome_of(stack, project)).data["outcome"] == "applied"
    requested = await outcome_of(stack, asset)
    assert requested.data["outcome"] == "applied"
    [event] = events_of(stack.events, asset)
    assert (event.type, event.data["path"]) == ("asset.AssetRegistrationRequested", "in/video.mp4")


async def test_poison_goes_to_the_dlq_with_its_reason_and_the_worker_keeps_deciding(
    stack: Stack,
) -> None:
    tenant = org()
    named = creating(tenant, "bad-data", EnqueueItem(platform="x", title="x"))
    bad_data = json.loads(encode(named))
    bad_data["data"]["platform"] = "myspace"
    no_org = {k: v for k, v in json.loads(encode(named)).items() if k != "org_id"}
    poison = [
        (b"junk-key", b"\x00\x01 not an envelope"),
        (str(named.aggregate_id).encode(), json.dumps(bad_data).encode()),
        (b"no-org", json.dumps(no_org).encode()),
    ]
    after = creating(tenant, "after-poison", EnqueueItem(platform="x", title="Still here"))
    await produce(stack.settings, poison)
    await send_commands(stack.settings, [after])
    assert (await outcome_of(stack, after)).data["outcome"] == "applied"
    await stack.dlq.wait_until(lambda r: all(v in [x.value for x in r.records] for _, v in poison))
    for key, value in poison:
        [record] = [r for r in stack.dlq.records if r.value == value]
        assert record.key == key
        assert record.headers[dlq.CONSUMER] == b"decider"
        assert record.headers[dlq.SOURCE].startswith(stack.settings.topics.commands.encode())
        assert record.headers[dlq.REASON]
    [invalid] = [r for r in stack.dlq.records if r.value == poison[1][1]]
    assert b"platform" in invalid.headers[dlq.REASON]
    rejected = await outcome_of(stack, named)
    assert (rejected.data["outcome"], rejected.data["status"]) == ("rejected", 422)
