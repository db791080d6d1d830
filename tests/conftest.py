"""Fixtures shared by every test: settings with a unique topic prefix and schema.

The services (Kafka, PostgreSQL, ffmpeg) are started once for the whole run by
`make test` (deploy/scripts/stack.sh). A missing service fails the run: it never
turns integration tests into skips.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.isolation import isolated_read_model, own_settings
from wavestack.settings import Settings

TEST_PARTITIONS = 3


def _reachable(hostport: str) -> bool:
    host, _, port = hostport.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    settings = Settings()
    missing = []
    if not _reachable(settings.kafka_bootstrap):
        missing.append(f"Kafka at {settings.kafka_bootstrap}")
    dsn_host = settings.dsn.split("@")[-1].split("/")[0]
    if not _reachable(dsn_host):
        missing.append(f"PostgreSQL at {dsn_host}")
    if not shutil.which("ffmpeg") or not shutil.which("ffprobe"):
        missing.append("ffmpeg/ffprobe on PATH")
    if missing:
        pytest.fail(
            "services not running: " + ", ".join(missing) + " (run `make test`, which starts them)",
            pytrace=False,
        )
    return settings


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def settings_factory(
    base_settings: Settings, tmp_path: Path, unique: str
) -> Callable[..., Settings]:
    """Settings isolated to this test: own topics, own schema, own keys and media."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "topic_prefix": f"test-{unique}",
            "db_schema": f"t_{unique}",
            "log_format": "console",
        }
        values.update(overrides)
        return own_settings(base_settings, tmp_path, "test", partitions=TEST_PARTITIONS, **values)

    return make


@pytest.fixture
async def settings(settings_factory: Callable[..., Settings]) -> AsyncIterator[Settings]:
    """Isolated settings whose topics exist and whose schema is migrated."""
    async with isolated_read_model(settings_factory()) as s:
        yield s


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A connection whose search_path is this test's read-model schema."""
    conn = await asyncpg.connect(settings.dsn, server_settings={"search_path": settings.db_schema})
    yield conn
    await conn.close()


def pytest_report_header() -> list[str]:
    return [f"wavestack stack: kafka={os.environ.get('WAVESTACK_KAFKA_BOOTSTRAP', 'default')}"]
