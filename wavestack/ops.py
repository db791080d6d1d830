"""Operator commands behind the CLI: topics, migrations, replay, rebuild, audit, doctor."""

from __future__ import annotations

import asyncpg
import structlog

from projections.migrate import migrate
from wavestack.settings import Settings
from wavestack.topics import ensure_topics

log = structlog.get_logger("wavestack.ops")


async def create_topics(settings: Settings) -> int:
    created = await ensure_topics(
        settings.kafka_bootstrap,
        settings.topics,
        settings.topic_partitions,
        settings.topic_replication_factor,
    )
    for name in settings.topics.all():
        log.info("topic ready", topic=name, created=name in created)
    return 0


async def migrate_read_model(settings: Settings) -> int:
    conn = await asyncpg.connect(settings.dsn)
    try:
        applied = await migrate(conn, settings.db_schema)
    finally:
        await conn.close()
    log.info("read model migrated", schema=settings.db_schema, applied=applied)
    return 0
