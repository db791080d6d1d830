"""Integration rows survive a rebuild: the bulk load folds them to the live checksum."""

from __future__ import annotations

import json
import uuid

import asyncpg

from projections.checksum import checksum
from projections.rebuild import rebuild
from schemas.envelope import Envelope
from schemas.integrations import IntegrationCreated, IntegrationDeleted, IntegrationRevoked
from tests.integration.projections.projection_support import (
    drop_schemas_like,
    event,
    produce_events,
    projector_running,
    wait_caught_up,
)
from wavestack.settings import Settings


def histories(org_id: str) -> list[Envelope]:
    discord, twitch, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    made = IntegrationCreated(
        platform="discord", name="d", scopes=["queue:write", "read"], application_id="1",
        public_key="ab" * 32,
    )  # fmt: skip
    channel = IntegrationCreated(
        platform="twitch", name="t", scopes=["clips:write"], broadcaster_user_id="7",
        recording_project_id=uuid.uuid4(), key_id="k1",
    )  # fmt: skip
    return [
        event(made, aggregate_id=discord, sequence=1, org_id=org_id),
        event(channel, aggregate_id=twitch, sequence=1, org_id=org_id),
        event(
            IntegrationRevoked(reason="user_removed"),
            aggregate_id=twitch,
            sequence=2,
            org_id=org_id,
        ),
        # A redelivered revocation changes nothing.
        event(
            IntegrationRevoked(reason="user_removed"),
            aggregate_id=twitch,
            sequence=2,
            org_id=org_id,
        ),
        event(made, aggregate_id=gone, sequence=1, org_id=org_id),
        event(IntegrationDeleted(), aggregate_id=gone, sequence=2, org_id=org_id),
    ]


async def test_a_rebuild_with_integration_events_has_the_live_rows_and_checksum(
    settings: Settings, db: asyncpg.Connection
) -> None:
    await produce_events(settings, histories("org-a") + histories("org-b"))
    query = (
        "SELECT org_id, platform, status, scopes, revoked_reason FROM integrations ORDER BY 1, 2, 3"
    )
    try:
        async with projector_running(settings):
            await wait_caught_up(settings, db)
            live_digest = await checksum(db, settings.db_schema)
            live = [tuple(r) for r in await db.fetch(query)]
        summary = await rebuild(settings, keep_old=False)
        assert [(o, p, s) for o, p, s, _, _ in live] == [
            (org, platform, status)
            for org in ("org-a", "org-b")
            for platform, status in (
                ("discord", "active"),
                ("discord", "deleted"),
                ("twitch", "revoked"),
            )
        ]
        assert json.loads(live[0][3]) == ["queue:write", "read"]
        assert live[2][4] == "user_removed"
        assert summary.checksum == live_digest
        assert [tuple(r) for r in await db.fetch(query)] == live
    finally:
        await drop_schemas_like(db, settings.db_schema)
