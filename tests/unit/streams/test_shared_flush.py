"""One producer flush per round of callers, never one that started before a caller."""

from __future__ import annotations

import asyncio

from streams.runtime.sending import SharedFlush


class Producer:
    def __init__(self) -> None:
        self.flushes = 0
        self.release = asyncio.Event()

    async def flush(self) -> None:
        self.flushes += 1
        await self.release.wait()


async def test_callers_that_arrive_together_share_one_flush() -> None:
    producer = Producer()
    shared = SharedFlush(producer.flush)
    callers = [asyncio.create_task(shared()) for _ in range(20)]
    await asyncio.sleep(0.01)
    producer.release.set()
    await asyncio.gather(*callers)
    assert producer.flushes == 1


async def test_a_caller_arriving_during_a_flush_waits_for_the_next_one() -> None:
    producer = Producer()
    shared = SharedFlush(producer.flush)
    first = asyncio.create_task(shared())
    await asyncio.sleep(0.01)  # the first round's flush is running now
    late = asyncio.create_task(shared())
    await asyncio.sleep(0.01)
    assert producer.flushes == 1 and not late.done()
    producer.release.set()
    await asyncio.gather(first, late)
    assert producer.flushes == 2  # the late caller's messages were flushed by a later flush


async def test_a_failed_flush_is_raised_to_every_caller_of_its_round() -> None:
    async def broken() -> None:
        raise ConnectionError("broker gone")

    shared = SharedFlush(broken)
    results = await asyncio.gather(shared(), shared(), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
