"""The delivery process: its consumer group on the events topic, the due table, the lanes.

Plain aiokafka like the decider: it reads every event, and most are for no
subscription, so it skips them by the ``type`` header before parsing anything. Per
fetched batch: subscription events first (so a subscription made in the same batch
applies), then the events some active subscription takes become due rows; rows,
subscription state and replay jobs commit in one PostgreSQL transaction, then the
offsets. The consumer never waits for a delivery: retries and slow endpoints live
in the due table (streams/webhooks/store.py), served by the dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from pydantic import SecretStr

from schemas.catalog import Topics
from schemas.codec import DecodeError, read
from schemas.ids import derived_id
from schemas.kafka_security import kafka_client_options
from schemas.webhooks import WebhookReplayRequested, public_event
from streams.runtime.app import StreamsSettings, instance_id
from streams.runtime.process import Rebalance, run_until_signalled
from streams.runtime.sending import TYPE_HEADER
from streams.webhooks import attempts, metrics, store
from streams.webhooks.dispatch import Dispatcher
from streams.webhooks.replay import run_replay
from streams.webhooks.sender import create_session
from streams.webhooks.store import DueRow
from streams.webhooks.subscriptions import STATE_TYPES, Registry, apply, from_row, to_row
from vault.keyring import KeyRing, ring_from_setting

ROLE = "webhooks"
READY_MESSAGE = "Worker ready"
MAX_BATCH = 1000
REFRESH_SECONDS = 2.0
PRUNE_SECONDS = 600.0
KEEP_DONE_SECONDS = 7 * 24 * 3600.0

log = structlog.get_logger("streams.webhooks")


class WebhookSettings(StreamsSettings, Protocol):
    @property
    def dsn(self) -> str: ...
    @property
    def db_schema(self) -> str: ...
    @property
    def egress_allow_private(self) -> bool: ...
    @property
    def webhook_retry_schedule_seconds(self) -> list[float]: ...
    @property
    def webhook_timeout_seconds(self) -> float: ...
    @property
    def webhook_concurrency_per_subscription(self) -> int: ...
    @property
    def webhook_poll_seconds(self) -> float: ...
    @property
    def secret_key(self) -> SecretStr | None: ...


def group_id(settings: StreamsSettings) -> str:
    return f"{settings.topic_prefix}-webhooks"


def _type(record: ConsumerRecord[bytes, bytes]) -> str:
    for name, value in record.headers:
        if name == TYPE_HEADER:
            return str(value.decode(errors="replace"))
    return ""


class WebhookProcess:
    """Owns the clients; ``run`` delivers until ``stop`` is called."""

    def __init__(self, settings: WebhookSettings, ring: KeyRing) -> None:
        self.settings = settings
        self.ring = ring
        self.topics = Topics(settings.topic_prefix)
        self.registry = Registry()
        self.stopping = asyncio.Event()
        self.consumer = AIOKafkaConsumer(
            **kafka_client_options(settings.kafka),
            group_id=group_id(settings),
            group_instance_id=instance_id(settings, ROLE),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=MAX_BATCH,
            session_timeout_ms=int(settings.worker_session_timeout_seconds * 1000),
        )
        self.producer = AIOKafkaProducer(
            **kafka_client_options(settings.kafka),
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
        )
        self.pool: asyncpg.Pool | None = None
        self.dispatcher: Dispatcher | None = None
        # Set when this process queued a replay job; others' jobs (and ours left by a
        # crash) are found by the slower poll.
        self.replay_wake = asyncio.Event()

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        schema = self.settings.db_schema
        self.pool = await asyncpg.create_pool(
            self.settings.dsn, min_size=1, max_size=8, reset=_keep_session
        )
        session = create_session(allow_private=self.settings.egress_allow_private)
        tasks: list[asyncio.Task[Any]] = []
        try:
            async with self.pool.acquire() as conn:
                with contextlib.suppress(asyncpg.UniqueViolationError):
                    await store.create(conn, schema)
            await self._refresh()
            await self.producer.start()
            self.dispatcher = Dispatcher(
                pool=self.pool,
                db_schema=schema,
                producer=self.producer,
                topics=self.topics,
                registry=self.registry,
                ring=self.ring,
                session=session,
                schedule=self.settings.webhook_retry_schedule_seconds,
                timeout_seconds=self.settings.webhook_timeout_seconds,
                per_subscription=self.settings.webhook_concurrency_per_subscription,
                poll_seconds=self.settings.webhook_poll_seconds,
            )
            # The listener only tells the readiness probe: nothing here is per partition.
            self.consumer.subscribe([self.topics.events], listener=Rebalance())
            await self.consumer.start()
            tasks = [
                asyncio.create_task(self.dispatcher.run(self.stopping)),
                asyncio.create_task(self._every(REFRESH_SECONDS, self._refresh)),
                asyncio.create_task(self._replays_when_asked()),
                asyncio.create_task(self._every(PRUNE_SECONDS, self._prune)),
            ]
            log.warning(READY_MESSAGE, role=ROLE, group=group_id(self.settings))
            while not self.stopping.is_set():
                fetched = await self.consumer.getmany(timeout_ms=200, max_records=MAX_BATCH)
                records = [r for rs in fetched.values() for r in rs]
                if records:
                    await self._consume(records)
                    await self.consumer.commit()
                    self.dispatcher.wake.set()
        finally:
            self.stopping.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.dispatcher is not None:
                await self.dispatcher.drain()
            await self.consumer.stop()
            await self.producer.stop()
            await session.close()
            await self.pool.close()

    async def _every(self, seconds: float, job: Any) -> None:
        while not self.stopping.is_set():
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:
                log.exception("webhook_background_failed", job=job.__name__)

    async def _consume(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        assert self.pool is not None
        changed: dict[Any, Any] = {}
        replays: list[tuple[Any, ...]] = []
        due: list[DueRow] = []
        for record in records:  # subscription changes first
            kind = _type(record)
            if kind not in STATE_TYPES and kind != WebhookReplayRequested.TYPE:
                continue
            try:
                decoded = read(record.value)
            except DecodeError:
                continue  # the decider wrote it; whoever cannot read it dead-letters it
            env = decoded.envelope
            if isinstance(decoded.message, WebhookReplayRequested):
                since = decoded.message.since
                replays.append(
                    (env.command_id, env.org_id, env.aggregate_id, since, env.occurred_at)
                )
                continue
            before = self.registry.by_id.get(env.aggregate_id)
            after = apply(before, env, decoded.message)
            if before is None and after is not None:
                # Events of the org in other partitions may have been read before this
                # one: a catch-up from the subscription's creation queues what they missed.
                catch_up = derived_id(after.id, "catch-up")
                replays.append(
                    (catch_up, env.org_id, after.id, env.occurred_at, env.occurred_at, True)
                )
            if after is not None and after is not before:
                self.registry.put(after)
                changed[after.id] = after
                if after.status != "active" and self.dispatcher is not None:
                    self.dispatcher.forget(after.id)
        for record in records:
            if _type(record) not in self.registry.types:
                continue
            try:
                env = read(record.value).envelope
            except DecodeError:
                continue
            subs = self.registry.matching(env)
            if not subs:
                continue
            body = json.dumps(public_event(env)).encode()
            for sub in subs:
                delivery = attempts.delivery_id(sub.id, env.id, None)
                due.append(DueRow(delivery, env.org_id, sub.id, env.id, env.type, None, 1, body))
        if not (changed or replays or due):
            return
        schema = self.settings.db_schema
        async with self.pool.acquire() as conn, conn.transaction():
            for sub in changed.values():
                await store.save_subscription(conn, schema, to_row(sub))
            for job in replays:
                await store.add_replay(conn, schema, *job)
            await store.insert_due(conn, schema, due, datetime.now(UTC))
        metrics.QUEUED.labels("live").inc(len(due))
        if replays:
            self.replay_wake.set()

    async def _refresh(self) -> None:
        """Subscriptions other processes of the group saw (their partitions) come in here."""
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            rows = await store.load_subscriptions(conn, self.settings.db_schema)
        for row in rows:
            sub = from_row(row)
            known = self.registry.by_id.get(sub.id)
            if known is None or known.version < sub.version:
                self.registry.put(sub)

    async def _replays_when_asked(self) -> None:
        """Runs open replay jobs as soon as this process queues one, else every
        REFRESH_SECONDS: polling the table every webhook_poll_seconds was a query
        20 times a second that nearly always found nothing."""
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.replay_wake.wait(), REFRESH_SECONDS)
            self.replay_wake.clear()
            try:
                await self._replays()
            except Exception:
                log.exception("webhook_background_failed", job="_replays")

    async def _prune(self) -> None:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            await store.prune(conn, self.settings.db_schema, KEEP_DONE_SECONDS)

    async def _replays(self) -> None:
        assert self.pool is not None
        schema = self.settings.db_schema
        async with self.pool.acquire() as conn:
            jobs = await store.open_replays(conn, schema)
        for job in jobs:
            sub = self.registry.by_id.get(job["subscription_id"])
            if sub is not None and sub.status == "active":
                await run_replay(
                    self.settings.kafka,
                    self.topics.events,
                    self.pool,
                    schema,
                    sub,
                    None if job["live"] else job["replay_id"],
                    job["since"],
                )
            async with self.pool.acquire() as conn:
                await store.replay_done(conn, schema, job["replay_id"])
            if self.dispatcher is not None:
                self.dispatcher.wake.set()


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (RESET ALL, UNLISTEN *, ...): this process
    sets no session state, listens to nothing and takes no advisory locks, and asyncpg
    still rolls back a transaction left open. The reset was a round trip on every
    claim, move and insert."""


def main(settings: WebhookSettings) -> None:
    """Runs the delivery process until SIGTERM or SIGINT."""
    secret = settings.secret_key
    value = None if secret is None else secret.get_secret_value()
    ring = ring_from_setting(value, "webhook secrets cannot be derived")

    run_until_signalled(lambda: WebhookProcess(settings, ring))
