"""Shutdown: a client that does not stop in time is left behind, the others still stop."""

from __future__ import annotations

import asyncio

from streams.runtime.clients import stop_clients


class Client:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.stopped = False
        self.cancelled = False

    async def stop(self) -> None:
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        self.stopped = True


async def test_a_stuck_client_is_abandoned_after_the_bound_and_the_next_one_stops() -> None:
    stuck, quick = Client(3600), Client(0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await stop_clients(stuck, quick, seconds=0.2)
    assert stuck.cancelled and not stuck.stopped
    assert quick.stopped
    assert loop.time() - began < 2


async def test_clients_that_stop_in_time_are_all_stopped_in_order() -> None:
    clients = [Client(0.01) for _ in range(3)]
    await stop_clients(*clients, seconds=5)
    assert [c.stopped for c in clients] == [True, True, True]
