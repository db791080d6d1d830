"""Commands this process accepted lately, and the ones it is producing right now.

The read model is the authority on which idempotency keys are known, but it learns of
a command only after the projector has read it. This small in-process memory closes
that gap for the common case (a client retrying against the same API process): the
same key with another body is refused at once, `GET /v1/commands/{id}` answers
`pending`, and concurrent identical requests share one produce.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

DEFAULT_CAPACITY = 10_000


@dataclass(frozen=True)
class AcceptedCommand:
    command_id: uuid.UUID
    org_id: str
    type: str
    aggregate_type: str
    aggregate_id: uuid.UUID
    fingerprint: str
    accepted_at: datetime


class RecentCommands:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._accepted: OrderedDict[uuid.UUID, AcceptedCommand] = OrderedDict()
        self._created: dict[uuid.UUID, AcceptedCommand] = {}  # by the aggregate id it creates
        self._inflight: dict[uuid.UUID, tuple[str, asyncio.Future[None]]] = {}

    def get(self, command_id: uuid.UUID) -> AcceptedCommand | None:
        return self._accepted.get(command_id)

    def creation_of(self, aggregate_id: uuid.UUID) -> AcceptedCommand | None:
        """The creating command this process accepted for ``aggregate_id``, if any."""
        return self._created.get(aggregate_id)

    def remember(self, command: AcceptedCommand, *, creates: bool) -> None:
        self._accepted[command.command_id] = command
        self._accepted.move_to_end(command.command_id)
        if creates:
            self._created[command.aggregate_id] = command
        while len(self._accepted) > self._capacity:
            _, old = self._accepted.popitem(last=False)
            if self._created.get(old.aggregate_id) is old:
                del self._created[old.aggregate_id]

    async def once(
        self, command_id: uuid.UUID, fingerprint: str, action: Callable[[], Awaitable[None]]
    ) -> None:
        """Runs ``action`` unless the same command (id and fingerprint) is already running,
        in which case it waits for that run and shares its result or error."""
        running = self._inflight.get(command_id)
        if running is not None and running[0] == fingerprint:
            try:
                await asyncio.shield(running[1])
                return
            except asyncio.CancelledError:
                if not running[1].cancelled():
                    raise  # this request was cancelled, not the one it waited for
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (fingerprint, future)
        self._inflight[command_id] = entry
        try:
            await action()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        else:
            future.set_result(None)
        finally:
            if self._inflight.get(command_id) is entry:
                del self._inflight[command_id]
