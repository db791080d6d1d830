"""The publisher's Faust app: its own consumer group on the events topic, and the scheduler.

Its own group (``<prefix>-publisher``), apart from the decider and the media app: a
clip that runs for minutes never delays a post, and publishing scales with its own
processes. One agent at concurrency 1 (faust #606): events are folded in log order,
attempts run beside it and are acked in log order (streams/publishing/agent.py). Its
HTTP session, its PostgreSQL pool (the key table) and its adapters are opened once,
on start, and closed on stop.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Protocol, cast

import aiohttp
import asyncpg
import mode
import structlog
from faust.types import StreamT
from pydantic import SecretStr

from schemas.catalog import Topics
from schemas.envelope import Envelope
from streams.publishing.adapters.backoff import Backoff
from streams.publishing.adapters.base import Adapter
from streams.publishing.adapters.http import create_session
from streams.publishing.adapters.registry import BaseUrls, create_adapters, utc_now
from streams.publishing.agent import PublisherAgent
from streams.publishing.attempt import AttemptPolicy, AttemptRunner
from streams.publishing.connections import Connections
from streams.publishing.metrics_reader import MetricsReader
from streams.publishing.metrics_schedule import ReadSchedule
from streams.publishing.metrics_tracking import ReadingPublishHandler, Reads
from streams.publishing.scheduler import Scheduler
from streams.publishing.tracking import Tracker
from streams.runtime.app import (
    StreamsApp,
    StreamsSettings,
    create_streams_app,
    json_table,
    raw_topic,
)
from streams.runtime.sending import SharedFlush
from vault import keytable
from vault.keyring import ring_from_setting

ROLE = "publisher"
AGENT = "publisher-agent"
# One event may keep the agent busy for a whole platform call and its reports.
BUSY_MARGIN_SECONDS = 120.0

log = structlog.get_logger("streams.publishing")


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
    """The session, the adapters on it and the key-table pool: opened in the app's loop."""

    def __init__(self, settings: PublisherSettings, connections: Connections) -> None:
        self.settings = settings
        self.connections = connections
        self.adapters: dict[str, Adapter] = {}
        self.session: aiohttp.ClientSession | None = None
        self.pool: asyncpg.Pool | None = None
        self.ready = asyncio.Event()

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
        self.pool = await asyncpg.create_pool(settings.dsn, min_size=1, max_size=4)
        async with self.pool.acquire() as conn:
            await keytable.create_table(conn, settings.db_schema)
        self.connections.pool = self.pool
        self.ready.set()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.pool is not None:
            await self.pool.close()


def create_app(settings: PublisherSettings, *, web: bool = False) -> StreamsApp:
    secret = settings.secret_key
    value = None if secret is None else secret.get_secret_value()
    ring = ring_from_setting(value, "the publisher can't open connections")
    topics = Topics(settings.topic_prefix)
    busy = settings.publish_timeout_seconds + BUSY_MARGIN_SECONDS
    app = create_streams_app(settings, ROLE, busy_seconds=busy, web=web)
    # Running attempts would hold faust's shutdown for up to their timeout.
    app.stop_first = (AGENT,)
    partitions = settings.topic_partitions
    items = json_table(app, "publisher_items", partitions, "Queue item id -> folded item.")
    due = json_table(app, "publisher_due", partitions, "Queue item id -> its next attempt.")
    tracker = Tracker(items, due)

    async def reindex(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        # After recovery, before the streams resume: the tables hold this process's
        # partitions, written by faust rather than through the tracker.
        log.info("due_index_rebuilt", entries=tracker.reindex())

    async def forget(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        tracker.index.replace(())  # the revoked partitions' items are someone else's now

    # mode types its handlers with mypy_extensions' argument kinds, which no def matches.
    app.on_rebalance_complete.connect(cast(Any, reindex))
    app.on_partitions_revoked.connect(cast(Any, forget))
    reads = Reads(
        json_table(app, "publisher_reads", partitions, "Queue item id -> post read back.")
    )
    schedule = ReadSchedule.from_settings(settings)
    connections = Connections(None, settings.db_schema, ring)
    resources = Resources(settings, connections)

    @app.service
    class Opened(mode.Service):
        async def on_start(self) -> None:
            await resources.open()

        async def on_stop(self) -> None:
            await reader.stop()
            await resources.close()

    policy = AttemptPolicy(
        backoff=Backoff(
            base_seconds=settings.publish_retry_base_seconds,
            cap_seconds=settings.publish_retry_cap_seconds,
            max_attempts=settings.publish_max_attempts,
        ),
        start_max_age=timedelta(seconds=settings.publish_start_max_age_seconds),
    )

    async def send(envelopes: list[Envelope], bound: Any) -> None:
        await handler.send(envelopes, bound)

    async def flush_producer() -> None:
        await app.producer.flush()

    # Attempts run side by side, each flushing its calling mark: one flush per round.
    flush = SharedFlush(flush_producer)
    runner = AttemptRunner(tracker, resources.adapters, connections, policy, send, flush, utc_now)
    handler = ReadingPublishHandler(
        app,
        topics,
        tracker,
        connections,
        runner,
        reads=reads,
        adapters=resources.adapters,
        schedule=schedule,
        clock=utc_now,
    )
    agent = PublisherAgent(app, topics, [handler])

    async def run_agent(stream: StreamT[bytes]) -> None:
        await resources.ready.wait()
        await agent.run(stream)

    app.agent(raw_topic(app, topics.events), name=AGENT, concurrency=1)(run_agent)
    scheduler = Scheduler(app, topics, tracker)

    async def tick() -> None:
        if not resources.ready.is_set():
            return
        try:
            await scheduler.tick()
        except Exception:  # the next tick tries again; a bug must not stop the timer
            log.exception("scheduler_tick_failed")

    app.timer(settings.publish_tick_seconds, name="publish-scheduler")(tick)
    # Reading back published posts' figures: the same adapters, session and connections.
    reader = MetricsReader(
        app,
        topics,
        reads,
        resources.adapters,
        connections,
        schedule,
        utc_now,
        settings.metrics_concurrency,
    )

    async def read_tick() -> None:
        if not resources.ready.is_set():
            return
        try:
            await reader.tick()
        except Exception:  # the next tick tries again; a bug must not stop the timer
            log.exception("metrics_tick_failed")

    app.timer(settings.metrics_tick_seconds, name="metrics-reader")(read_tick)
    return app
