"""A client sending a steady stream of commands to the API processes, as a bot would.

Each item has its own Idempotency-Key; a request that fails (503 while Kafka elects a
leader, a refused connection while an API process is down) is retried with the same
key on the next process until it is accepted, so the test knows exactly which
commands the system accepted and can count them on the other side.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

RETRY_PAUSE_S = 0.2
GIVE_UP_S = 90.0


@dataclass(frozen=True)
class Accepted:
    key: str
    item_id: uuid.UUID
    command_id: uuid.UUID


@dataclass
class Load:
    """Sends ``count`` POST /v1/queue at ``rate`` per second, round robin over ``urls``."""

    urls: Sequence[str]
    token: str
    body: Callable[[int], dict[str, Any]]
    count: int
    rate: float
    accepted: list[Accepted] = field(default_factory=list)
    # Answers other than 202, by status (0: no answer: refused, reset, timed out).
    refusals: Counter[int] = field(default_factory=Counter)
    accepted_by: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    _turn: itertools.cycle[int] = field(default_factory=lambda: itertools.cycle(range(1 << 30)))

    def _next_url(self) -> str:
        return self.urls[next(self._turn) % len(self.urls)]

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Sends ``count`` requests, or fewer if ``stop`` is set first; each is retried
        until accepted (bounded: GIVE_UP_S). Returns when every sent one is accepted."""
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            sends = []
            for i in range(self.count):
                if stop is not None and stop.is_set():
                    break
                sends.append(asyncio.create_task(self._send(http, i)))
                await asyncio.sleep(1 / self.rate)
            self.sent = len(sends)
            await asyncio.gather(*sends)

    async def _send(self, http: aiohttp.ClientSession, i: int) -> None:
        key = f"cluster-item-{i}"
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}
        body = self.body(i)  # once: a retry must send the same request
        deadline = asyncio.get_running_loop().time() + GIVE_UP_S
        while True:
            status = 0
            url = self._next_url()
            try:
                async with http.post(url + "/v1/queue", json=body, headers=headers) as resp:
                    status = resp.status
                    if status == 202:
                        answer = await resp.json()
                        self.accepted.append(
                            Accepted(key, uuid.UUID(answer["id"]), uuid.UUID(answer["command_id"]))
                        )
                        self.accepted_by[url] += 1
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            self.refusals[status] += 1
            # Only "try again later" answers are retried; anything else is a bug.
            assert status in (0, 503), f"POST /v1/queue answered {status} for {key}"
            assert asyncio.get_running_loop().time() < deadline, f"{key} never accepted"
            await asyncio.sleep(RETRY_PAUSE_S)
