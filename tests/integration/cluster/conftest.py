"""A 3-node Kafka cluster of the tests' own (started once, stopped at the end) and
settings that point every process at it, with their own topics and schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.integration.cluster.cluster import LocalCluster, free_base_port
from tests.isolation import isolated_read_model, own_settings
from vault import keytable
from vault.keyring import generate_entry
from wavestack.settings import Settings

# Short, so a dead member's partitions move to the survivors within seconds.
SESSION_TIMEOUT_S = 6.0


@pytest.fixture(scope="session")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalCluster]:
    local = LocalCluster(tmp_path_factory.mktemp("kafka-cluster"), free_base_port())
    try:
        await local.start()  # a failed start may leave some nodes running: stop them too
        yield local
    finally:
        await local.stop()


@pytest.fixture
async def cluster_settings(
    cluster: LocalCluster, base_settings: Settings, tmp_path: Path
) -> AsyncIterator[Settings]:
    settings = own_settings(
        base_settings,
        tmp_path,
        "cluster",
        kafka_bootstrap=cluster.bootstrap,
        # What the changelogs of the streams processes are created with.
        topic_replication_factor=3,
        worker_session_timeout_seconds=SESSION_TIMEOUT_S,
        secret_key=generate_entry("cluster1"),
        egress_allow_private=True,
        publish_retry_base_seconds=0.3,
        publish_read_timeout_seconds=3.0,
        log_format="console",
    )
    async with isolated_read_model(settings) as s:
        try:
            yield s
        finally:
            conn = await asyncpg.connect(s.dsn)
            try:
                schema = keytable.key_schema(s.db_schema)
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                await conn.close()


@pytest.fixture
async def cluster_db(cluster_settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(
        cluster_settings.dsn, server_settings={"search_path": cluster_settings.db_schema}
    )
    yield conn
    await conn.close()
