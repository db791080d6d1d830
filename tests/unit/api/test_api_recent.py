"""The in-process memory of accepted commands: bounded, and one produce per burst."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from api.commands.recent import AcceptedCommand, RecentCommands


def accepted(aggregate: uuid.UUID | None = None) -> AcceptedCommand:
    return AcceptedCommand(
        command_id=uuid.uuid4(),
        org_id="org-a",
        type="queue.EnqueueItem",
        aggregate_type="queue_item",
        aggregate_id=aggregate or uuid.uuid4(),
        fingerprint="f",
        accepted_at=datetime.now(UTC),
    )


def test_the_oldest_commands_are_forgotten_past_the_capacity() -> None:
    recent = RecentCommands(capacity=2)
    first, second, third = accepted(), accepted(), accepted()
    for command in (first, second, third):
        recent.remember(command, creates=True)
    assert recent.get(first.command_id) is None
    assert recent.creation_of(first.aggregate_id) is None
    assert recent.get(third.command_id) == third
    assert recent.creation_of(third.aggregate_id) == third


async def test_concurrent_identical_commands_share_one_run() -> None:
    recent = RecentCommands()
    runs = 0
    gate = asyncio.Event()

    async def produce() -> None:
        nonlocal runs
        runs += 1
        await gate.wait()

    command_id = uuid.uuid4()
    tasks = [asyncio.create_task(recent.once(command_id, "f", produce)) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks)
    assert runs == 1


async def test_a_failed_run_fails_its_waiters_and_the_next_request_runs_again() -> None:
    recent = RecentCommands()
    command_id = uuid.uuid4()
    gate = asyncio.Event()

    async def broken() -> None:
        await gate.wait()
        raise RuntimeError("kafka down")

    tasks = [asyncio.create_task(recent.once(command_id, "f", broken)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    ran = False

    async def works() -> None:
        nonlocal ran
        ran = True

    await recent.once(command_id, "f", works)
    assert ran


async def test_another_fingerprint_is_not_coalesced() -> None:
    recent = RecentCommands()
    seen: list[str] = []
    gate = asyncio.Event()

    def action(name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            seen.append(name)
            await gate.wait()

        return run

    command_id = uuid.uuid4()
    a = asyncio.create_task(recent.once(command_id, "f1", action("a")))
    b = asyncio.create_task(recent.once(command_id, "f2", action("b")))
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(a, b)
    assert sorted(seen) == ["a", "b"]


@pytest.mark.parametrize("capacity", [1, 5])
def test_remembering_the_same_command_twice_keeps_one_entry(capacity: int) -> None:
    recent = RecentCommands(capacity=capacity)
    command = accepted()
    recent.remember(command, creates=True)
    recent.remember(command, creates=True)
    assert recent.get(command.command_id) == command
