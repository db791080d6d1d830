"""The batched idempotency look-up: right answers per (command, organization), few queries."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg

from api.backends.postgres import Database
from api.commands.fingerprints import FingerprintLookup
from wavestack.settings import Settings


class CountingDatabase(Database):
    def __init__(self, dsn: str, schema: str) -> None:
        super().__init__(dsn, schema)
        self.queries = 0

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.queries += 1
        return await super().fetch(sql, *args)


async def test_concurrent_look_ups_share_queries_and_keep_organizations_apart(
    settings: Settings, db: asyncpg.Connection
) -> None:
    known = [uuid.uuid4() for _ in range(10)]
    for i, command_id in enumerate(known):
        await db.execute(
            "INSERT INTO commands (command_id, org_id, type, aggregate_type, aggregate_id,"
            " fingerprint, requested_at) VALUES ($1, 'org-a', 't', 'a', $2, $3, now())",
            command_id,
            uuid.uuid4(),
            f"print-{i}",
        )
    database = CountingDatabase(settings.dsn, settings.db_schema)
    lookup = FingerprintLookup(database)
    try:
        asked = [(c, "org-a") for c in known] + [(c, "org-b") for c in known]
        asked += [(uuid.uuid4(), "org-a") for _ in range(10)]
        answers = await asyncio.gather(*(lookup.get(c, org) for c, org in asked))
    finally:
        await database.close()

    assert answers[:10] == [f"print-{i}" for i in range(10)]
    assert answers[10:] == [None] * 20  # another org's command, and unknown ones
    assert database.queries < len(asked) / 2
