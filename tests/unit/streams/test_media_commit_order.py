"""Offsets past unfinished work are never committed; lanes keep one aggregate in order."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition

from streams.media.lanes import Lanes, Work
from streams.runtime.offsets import Offsets, PartitionOffsets

TP = TopicPartition("p.events", 0)


def test_the_position_stops_at_the_first_unfinished_message_whatever_finished_after_it() -> None:
    offsets = PartitionOffsets()
    assert offsets.position() is None  # nothing read: nothing to commit
    offsets.passed(10)
    assert offsets.position() == 11
    offsets.opened(11)  # a clip
    offsets.opened(12)  # another clip
    offsets.passed(13)
    assert offsets.position() == 11
    offsets.finished(12)  # the later clip ends first
    assert offsets.position() == 11
    offsets.finished(11)
    assert offsets.position() == 14


def test_only_positions_that_moved_are_due_and_a_revoked_partition_is_forgotten() -> None:
    offsets = Offsets()
    other = TopicPartition("p.events", 1)
    offsets.assign(TP).passed(4)
    offsets.assign(other)
    assert offsets.due() == {TP: 5}  # the other partition has read nothing yet
    offsets.committed({TP: 5})
    assert offsets.due() == {}
    offsets.partitions[TP].passed(5)
    assert offsets.due(only={other}) == {}
    offsets.revoke(TP)
    assert offsets.due() == {}


async def test_one_aggregates_work_runs_in_order_and_each_lane_within_its_slots() -> None:
    lanes = Lanes({"clips": 2})
    log: list[str] = []
    running = 0
    most = 0
    gate = asyncio.Event()

    def clip(name: str) -> Work:
        async def run() -> None:
            nonlocal running, most
            running += 1
            most = max(most, running)
            log.append(f"{name} start")
            await gate.wait()
            log.append(f"{name} end")
            running -= 1

        return Work(chain=name[0], lane="clips", run=run)

    finished: list[str] = []
    for name in ("a1", "b1", "a2", "c1"):
        lanes.start(TP, clip(name), lambda n=name: finished.append(n))  # type: ignore[misc]
    await asyncio.sleep(0.05)
    # a2 waits for a1 (same aggregate) without taking a slot: b1 and... c1 waits for one.
    assert sorted(log) == ["a1 start", "b1 start"]
    gate.set()
    await lanes.wait(1.0)
    assert len(lanes) == 0
    assert log.index("a1 end") < log.index("a2 start")
    assert most == 2
    assert sorted(finished) == ["a1", "a2", "b1", "c1"]


async def test_cancelled_work_is_not_finished_so_its_offset_stays_uncommitted() -> None:
    lanes = Lanes({"clips": 1})
    offsets = PartitionOffsets()

    async def forever() -> None:
        await asyncio.Event().wait()

    offsets.opened(7)
    lanes.start(TP, Work("x", "clips", forever), lambda: offsets.finished(7))
    offsets.passed(8)
    await asyncio.sleep(0)
    assert await lanes.cancel_partitions([TopicPartition("p.events", 3)]) == 0
    assert await lanes.cancel_partitions([TP]) == 1
    assert len(lanes) == 0
    assert offsets.position() == 7  # redone after the restart, never skipped
