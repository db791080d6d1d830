"""The idempotency look-up, batched: concurrent requests share one query.

Every creating command asks the read model whether its command id is already known
(and with which fingerprint). Under load that is one PostgreSQL round trip per
request; here the look-ups that arrive while a query is in flight wait for the next
one, which fetches them all. An idle API still answers each look-up with its own
query, at once: nothing waits for a batch to fill.
"""

from __future__ import annotations

import asyncio
import uuid

from api.backends.postgres import Database

Key = tuple[uuid.UUID, str]  # (command id, organization)

QUERY = (
    "SELECT c.command_id, c.org_id, c.fingerprint FROM commands c"
    " JOIN unnest($1::uuid[], $2::text[]) AS k(command_id, org_id)"
    " USING (command_id, org_id)"
)


class FingerprintLookup:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._waiting: dict[Key, list[asyncio.Future[str | None]]] = {}
        self._flusher: asyncio.Task[None] | None = None

    async def get(self, command_id: uuid.UUID, org_id: str) -> str | None:
        """The fingerprint recorded for this command of this organization, or None.

        Raises what the database raises (Unavailable when PostgreSQL is down)."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault((command_id, org_id), []).append(future)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            keys = list(batch)
            try:
                rows = await self._database.fetch(QUERY, [k[0] for k in keys], [k[1] for k in keys])
            except Exception as exc:  # handed to every waiter, which decides what it means
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            found = {(r["command_id"], r["org_id"]): str(r["fingerprint"]) for r in rows}
            for key, futures in batch.items():
                for future in futures:
                    if not future.done():  # a cancelled request no longer waits
                        future.set_result(found.get(key))
