"""SIGKILL the worker mid-stream, restart it: every command still ends with one outcome."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from schemas.codec import encode, read
from schemas.commands import CancelItem, EnqueueItem
from schemas.envelope import Envelope
from schemas.partitioning import partition_for
from streams.decider.app import changelog_topic, group_id
from streams.decider.handle import handle
from streams.decider.record import dump_record
from streams.decider.store import changelog_key
from tests.integration.streams.helpers import (
    Stack,
    addressing,
    committed_and_ends,
    creating,
    produce,
    send_commands,
)
from wavestack.settings import Settings

ITEMS = 240


def command_stream(tenant: str) -> tuple[list[Envelope], list[Envelope]]:
    """(distinct commands, what is sent): enqueues, cancels of earlier items, client retries."""
    commands: list[Envelope] = []
    sent: list[Envelope] = []
    items: list[Envelope] = []
    for i in range(ITEMS):
        item = creating(tenant, f"item-{i}", EnqueueItem(platform="x", title=f"Item {i}"))
        items.append(item)
        commands.append(item)
        sent.append(item)
        if i % 3 == 2:
            cancel = addressing(tenant, items[i - 1].aggregate_id, CancelItem())
            commands.append(cancel)
            sent.append(cancel)
        if i % 5 == 4:
            sent.append(items[i - 3])  # the client retried an earlier request
    return commands, sent


async def send_slowly(settings: Settings, envelopes: Sequence[Envelope]) -> None:
    for start in range(0, len(envelopes), 20):
        await send_commands(settings, envelopes[start : start + 20])
        await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_every_command_has_exactly_one_outcome_after_the_worker_is_killed_mid_stream(
    base_settings: Settings, tmp_path: Path
) -> None:
    stack = await Stack.start(base_settings, tmp_path)
    commands, sent = command_stream(f"org-{uuid.uuid4().hex[:8]}")
    try:
        producing = asyncio.create_task(send_slowly(stack.settings, sent))
        await stack.events.wait_until(lambda r: len(r.outcomes()) >= len(commands) // 4, 60)
        await stack.decider.kill()
        decided_before_kill = len(stack.events.outcomes())
        await producing
        await stack.decider.restart()
        await stack.events.wait_until(lambda r: len(r.outcomes()) >= len(commands), 120)
        await asyncio.sleep(1.0)  # let re-sent copies of the last decisions arrive too
    finally:
        assert await stack.stop() == 0, stack.output()

    assert decided_before_kill < len(commands)
    outcomes = stack.events.outcomes()
    assert set(outcomes) == {c.command_id for c in commands}
    for copies in outcomes.values():
        assert all(copy == copies[0] for copy in copies), "a command got two different outcomes"

    # No two different events claim one place in an aggregate's history.
    ids_at: dict[tuple[uuid.UUID, int | None], set[uuid.UUID]] = {}
    for event in stack.events.envelopes:
        ids_at.setdefault((event.aggregate_id, event.sequence), set()).add(event.id)
    assert all(len(ids) == 1 for ids in ids_at.values())

    enqueued = {e.id for e in stack.events.of_type("queue.ItemEnqueued")}
    assert len(enqueued) == ITEMS
    # Cancels decided after the restart found their items: the table came back.
    cancels = [c for c in commands if c.type == CancelItem.TYPE]
    assert {outcomes[c.command_id][0].data["outcome"] for c in cancels} == {"applied"}
    assert "decider_failed" not in stack.decider.output()


@pytest.mark.slow
async def test_a_decider_on_a_new_disk_restores_its_state_from_the_changelog(
    base_settings: Settings, tmp_path: Path
) -> None:
    stack = await Stack.start(base_settings, tmp_path)
    tenant = f"org-{uuid.uuid4().hex[:8]}"
    items = [
        creating(tenant, f"item-{i}", EnqueueItem(platform="x", title=f"Item {i}"))
        for i in range(30)
    ]
    try:
        await send_commands(stack.settings, items)
        await stack.events.wait_until(lambda r: len(r.outcomes()) >= len(items), 60)
        await stack.decider.stop()
        # A new machine: none of the local stores survive, only the changelog topic.
        shutil.rmtree(stack.settings.worker_data_dir / "decider")
        await stack.decider.restart()
        cancels = [addressing(tenant, item.aggregate_id, CancelItem()) for item in items]
        retried = items[:5]  # clients retrying requests decided before the move
        await send_commands(stack.settings, [*cancels, *retried])
        wanted = {c.command_id for c in cancels}
        await stack.events.wait_until(lambda r: wanted <= set(r.outcomes()), 60)
        await asyncio.sleep(1.0)
    finally:
        assert await stack.stop() == 0, stack.output()
    outcomes = stack.events.outcomes()
    # Every item was found again (a lost state would answer 404) and decided once more.
    assert {outcomes[c.command_id][0].data["outcome"] for c in cancels} == {"applied"}
    assert {e.sequence for e in stack.events.of_type("queue.ItemCancelled")} == {2}
    # Retried enqueues were answered from the restored decisions: one outcome each.
    for item in retried:
        assert all(copy == outcomes[item.command_id][0] for copy in outcomes[item.command_id])
    assert len({e.id for e in stack.events.of_type("queue.ItemEnqueued")}) == len(items)


async def test_a_worker_stopped_gracefully_has_committed_its_last_batch(
    base_settings: Settings, tmp_path: Path
) -> None:
    """A clean stop leaves every decided batch committed (commits run while the next
    batches are decided; the stop commits what is left and waits), so a restart
    decides nothing twice."""
    stack = await Stack.start(base_settings, tmp_path)
    try:
        tenant = f"graceful-{uuid.uuid4().hex[:6]}"
        commands = [
            creating(tenant, f"item-{i}", EnqueueItem(platform="x", title=f"Item {i}"))
            for i in range(60)
        ]
        await send_commands(stack.settings, commands)
        ids = {c.command_id for c in commands}
        await stack.events.wait_until(lambda r: ids <= set(r.outcomes()))

        assert await stack.decider.stop() == 0, stack.output()

        topic = stack.settings.topics.commands
        committed, ends = await committed_and_ends(stack.settings, group_id(stack.settings), topic)
        assert committed == {p: end for p, end in ends.items() if end > 0}
    finally:
        await stack.stop()


async def test_a_running_worker_commits_what_it_decided_once_the_commands_stop(
    base_settings: Settings, tmp_path: Path
) -> None:
    """Offsets are committed while the worker runs (at most every COMMIT_INTERVAL_S),
    everything decided within a few seconds of the last command, with no stop."""
    stack = await Stack.start(base_settings, tmp_path)
    try:
        tenant = f"idle-{uuid.uuid4().hex[:6]}"
        commands = [
            creating(tenant, f"item-{i}", EnqueueItem(platform="x", title=f"Item {i}"))
            for i in range(30)
        ]
        await send_commands(stack.settings, commands[:1])
        first = commands[0].command_id
        await stack.events.wait_until(lambda r: first in r.outcomes())
        await send_commands(stack.settings, commands[1:])
        ids = {c.command_id for c in commands}
        await stack.events.wait_until(lambda r: ids <= set(r.outcomes()))

        topic = stack.settings.topics.commands
        group = group_id(stack.settings)
        for _ in range(50):
            committed, ends = await committed_and_ends(stack.settings, group, topic)
            if committed == {p: end for p, end in ends.items() if end > 0}:
                break
            await asyncio.sleep(0.1)
        assert committed == {p: end for p, end in ends.items() if end > 0}
        assert stack.decider.proc is not None and stack.decider.proc.returncode is None
    finally:
        await stack.stop()


async def test_a_changelog_record_that_landed_before_its_events_sends_them_on_redelivery(
    base_settings: Settings, tmp_path: Path
) -> None:
    """A batch's events and changelog go to Kafka together, so a crash can leave the
    changelog written and the events not. The redelivered command then finds its
    decision in the restored record and sends the stored envelopes, byte for byte."""
    stack = await Stack.start(base_settings, tmp_path)
    try:
        tenant = f"early-{uuid.uuid4().hex[:6]}"
        command = creating(tenant, "item", EnqueueItem(platform="x", title="Early"))
        # The stored decision as an earlier copy of the command got it (the same ids and
        # body, another time): a decider that decided afresh would write other bytes.
        earlier = command.model_copy(update={"occurred_at": command.occurred_at - timedelta(1)})
        decided = handle(read(encode(earlier)), None)
        assert decided.record is not None
        assert decided.values != handle(read(encode(command)), None).values
        await stack.decider.stop()
        # What the crashed batch left: its changelog record (in the partition of the
        # command, not where its own key hashes), its command uncommitted.
        every = list(range(stack.settings.topic_partitions))
        partition = partition_for(str(command.aggregate_id).encode(), every, every)
        record = (changelog_key(str(command.aggregate_id)), dump_record(decided.record))
        await produce(stack.settings, [record], changelog_topic(stack.settings), partition)
        await send_commands(stack.settings, [command])
        await stack.decider.restart()
        await stack.events.wait_until(lambda r: command.command_id in r.outcomes(), 60)
        await asyncio.sleep(0.5)
    finally:
        assert await stack.stop() == 0, stack.output()
    sent = [
        r.value
        for r in stack.events.records
        if r.envelope and r.envelope.command_id == command.command_id
    ]
    assert sent == list(decided.values)
