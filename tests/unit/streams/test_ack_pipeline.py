"""The ack pipeline: events are acked in log order, each after its work finished."""

from __future__ import annotations

import asyncio
from typing import Any

from streams.runtime.acking import AckPipeline


class Acks:
    def __init__(self) -> None:
        self.acked: list[str] = []

    async def __call__(self, event: Any) -> bool:
        self.acked.append(event)
        return True


async def test_an_event_is_acked_only_after_every_one_of_its_sends_is_confirmed() -> None:
    acks = Acks()
    first, second = asyncio.get_running_loop().create_future(), asyncio.Future[None]()
    async with AckPipeline(acks, window=10) as pipeline:
        await pipeline.push("e1", [first, second])
        first.set_result(None)
        await asyncio.sleep(0.01)
        assert acks.acked == []
        second.set_result(None)
    assert acks.acked == ["e1"]


async def test_events_are_acked_in_push_order_even_when_later_sends_finish_first() -> None:
    acks = Acks()
    sends = [asyncio.get_running_loop().create_future() for _ in range(3)]
    async with AckPipeline(acks, window=10) as pipeline:
        for n, send in enumerate(sends):
            await pipeline.push(f"e{n}", [send])
        sends[2].set_result(None)
        sends[1].set_result(None)
        await asyncio.sleep(0.01)
        assert acks.acked == []  # e0 is still unconfirmed: nothing after it may be acked
        sends[0].set_result(None)
    assert acks.acked == ["e0", "e1", "e2"]


async def test_a_full_window_makes_the_next_push_wait() -> None:
    acks = Acks()
    blocked = asyncio.get_running_loop().create_future()
    async with AckPipeline(acks, window=1) as pipeline:
        await pipeline.push("e0", [blocked])
        await pipeline.push("e1", [])  # taken by the confirming task: the queue is empty
        third = asyncio.create_task(pipeline.push("e2", []))
        await asyncio.sleep(0.01)
        assert not third.done()
        blocked.set_result(None)
        await third
    assert acks.acked == ["e0", "e1", "e2"]
