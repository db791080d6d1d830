"""A read model of one's own: topics created, schema migrated, the schema dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from projections.migrate import migrate
from wavestack.settings import Settings
from wavestack.topics import ensure_topics


def own_settings(
    base: Settings, folder: Path, kind: str, *, partitions: int = 3, **overrides: Any
) -> Settings:
    """Settings of one test's (or stack's, or benchmark's) own: the services of ``base``,
    topics ``<kind>-<unique>.*``, the schema ``<kind>_<unique>``, and keys, media and the
    streams processes' stores under ``folder``. ``overrides`` win."""
    unique = uuid.uuid4().hex[:10]
    values: dict[str, Any] = {
        "kafka_bootstrap": base.kafka_bootstrap,
        "database_url": base.database_url,
        "topic_prefix": f"{kind}-{unique}",
        "db_schema": f"{kind}_{unique}",
        "topic_partitions": partitions,
        "auth_keys_dir": folder / "keys",
        "media_root": folder / "media",
        "worker_data_dir": folder / "faust",
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def isolated_read_model(settings: Settings) -> AsyncIterator[Settings]:
    """Makes the media root, the topics and the migrated schema ``settings`` name.

    Used by the test fixtures, the end-to-end stack and the benchmarks alike. The
    schema is dropped afterwards and the prefix's topics deleted: a broker keeps files
    open for every partition, and a suite's worth of abandoned topics exhausts them.
    """
    settings.media_root.mkdir(parents=True, exist_ok=True)
    await ensure_topics(settings.kafka_bootstrap, settings.topics, settings.topic_partitions)
    conn = await asyncpg.connect(settings.dsn)
    try:
        await migrate(conn, settings.db_schema)
    finally:
        await conn.close()
    try:
        yield settings
    finally:
        conn = await asyncpg.connect(settings.dsn)
        try:
            # The read model and the schemas beside it (<schema>_vault, _webhooks, ...).
            schemas = await conn.fetch(
                "SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $2",
                settings.db_schema,
                settings.db_schema.replace("_", r"\_") + r"\_%",
            )
            for row in schemas:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{row["nspname"]}" CASCADE')
        finally:
            await conn.close()
        await delete_topics(settings.kafka_bootstrap, settings.topic_prefix)


async def delete_topics(bootstrap: str, prefix: str) -> None:
    """Deletes ``<prefix>.*`` and ``<prefix>-*`` (ours, and the streams processes' changelogs)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith((f"{prefix}.", f"{prefix}-"))]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()
