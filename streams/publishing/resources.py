"""What the publisher opens once and shares: its HTTP session, its adapters, the key-table pool.

Opened on start, in the process's event loop, before the consumer joins its group;
closed on stop.
"""

from __future__ import annotations

from typing import Protocol

import aiohttp
import asyncpg
from pydantic import SecretStr

from streams.publishing.adapters.base import Adapter
from streams.publishing.adapters.http import create_session
from streams.publishing.adapters.registry import BaseUrls, create_adapters
from streams.publishing.connections import Connections
from streams.runtime.app import StreamsSettings
from vault import keytable


class PublisherSettings(StreamsSettings, Protocol):
    @property
    def dsn(self) -> str: ...
    @property
    def db_schema(self) -> str: ...
    @property
    def secret_key(self) -> SecretStr | None: ...
    @property
    def platform_discord_base_url(self) -> str: ...
    @property
    def platform_youtube_base_url(self) -> str: ...
    @property
    def platform_x_base_url(self) -> str: ...
    @property
    def egress_allow_private(self) -> bool: ...
    @property
    def publish_retry_base_seconds(self) -> float: ...
    @property
    def publish_retry_cap_seconds(self) -> float: ...
    @property
    def publish_max_attempts(self) -> int: ...
    @property
    def publish_timeout_seconds(self) -> float: ...
    @property
    def publish_read_timeout_seconds(self) -> float: ...
    @property
    def publish_start_max_age_seconds(self) -> float: ...
    @property
    def publish_tick_seconds(self) -> float: ...
    @property
    def metrics_early_interval_seconds(self) -> float: ...
    @property
    def metrics_late_interval_seconds(self) -> float: ...
    @property
    def metrics_early_period_seconds(self) -> float: ...
    @property
    def metrics_window_seconds(self) -> float: ...
    @property
    def metrics_tick_seconds(self) -> float: ...
    @property
    def metrics_concurrency(self) -> int: ...


class Resources:
    """The session, the adapters on it and the key-table pool: opened in the process's loop."""

    def __init__(self, settings: PublisherSettings, connections: Connections) -> None:
        self.settings = settings
        self.connections = connections
        self.adapters: dict[str, Adapter] = {}
        self.session: aiohttp.ClientSession | None = None
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        settings = self.settings
        timeout = aiohttp.ClientTimeout(
            total=settings.publish_timeout_seconds,
            connect=10,
            sock_connect=10,
            sock_read=settings.publish_read_timeout_seconds,
        )
        self.session = create_session(allow_private=settings.egress_allow_private, timeout=timeout)
        urls = BaseUrls(
            discord=settings.platform_discord_base_url,
            youtube=settings.platform_youtube_base_url,
            x=settings.platform_x_base_url,
        )
        self.adapters.update(create_adapters(self.session, urls))
        self.pool = await asyncpg.create_pool(
            settings.dsn, min_size=1, max_size=4, reset=_no_session_state
        )
        async with self.pool.acquire() as conn:
            await keytable.create_table(conn, settings.db_schema)
        self.connections.pool = self.pool

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.pool is not None:
            await self.pool.close()


async def _no_session_state(conn: asyncpg.Connection) -> None:
    """Nothing to reset on a connection going back to the pool: the key table's queries
    set no session state (asyncpg still rolls back a transaction left open). The
    default reset is a query per release, a round trip per attempt (docs/performance.md)."""
