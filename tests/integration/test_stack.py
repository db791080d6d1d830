"""The test stack itself: topics are created as DESIGN.md asks, migrations apply once."""

from __future__ import annotations

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from projections.migrate import migrate
from wavestack.settings import Settings


async def test_event_topics_keep_data_forever(settings: Settings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, settings.topics.events)]
        )
        configs = {c[0]: c[1] for c in described.resources[0][4]}
        assert configs["retention.ms"] == "-1"
    finally:
        await admin.close()


async def test_migrations_apply_once_per_schema(settings: Settings, db: asyncpg.Connection) -> None:
    assert await migrate(db, settings.db_schema) == []
    tables = {
        r["tablename"]
        for r in await db.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1", settings.db_schema
        )
    }
    assert {"queue_items", "commands", "events", "projection_offsets"} <= tables
