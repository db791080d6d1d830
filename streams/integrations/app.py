"""`wavestack worker --role integrations`: tells Discord interactions their outcome.

A plain aiokafka consumer of the events topic in its own group
(``<prefix>-integrations``). It passes over every event by its ``type`` header
before parsing, except the four that can answer an interaction (followups.TYPES),
and events older than an interaction token's life. For each of those it looks for
pending interactions (vault/inbound.py), posts the follow-up, marks the row told
(which drops the token), and commits the batch's offsets only after that.

At least once: a crash between a post and its mark posts that message again on
the redelivery (Discord's follow-ups have no idempotency key); a marked row is
never told twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta
from typing import Any, Protocol

import aiohttp
import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError
from pydantic import SecretStr

from schemas.base import Message
from schemas.catalog import Topics
from schemas.codec import Decoded, DecodeError, read
from schemas.events import ClipCompleted
from schemas.kafka_security import KafkaConnection, kafka_client_options
from streams.integrations.discord import Sent, send_followup
from streams.integrations.followups import TYPES, download_link, followup
from streams.runtime.process import Rebalance, run_until_signalled
from vault import downloads, inbound
from vault.keyring import VaultError, ring_from_setting

log = structlog.get_logger("streams.integrations")

ROLE = "integrations"
READY_MESSAGE = "Worker ready"
TYPE_HEADER = "type"  # what the decider puts on every event (streams/runtime/sending.py)
# Interaction tokens live 15 minutes: an older event has nobody left to tell.
MAX_EVENT_AGE_SECONDS = 16 * 60
SWEEP_SECONDS = 60.0
# A clip's link opens it for a week (long enough to fetch it, not a permanent URL).
LINK_LIFETIME = timedelta(days=7)


class IntegrationsSettings(Protocol):
    @property
    def kafka(self) -> KafkaConnection: ...
    @property
    def topic_prefix(self) -> str: ...
    @property
    def dsn(self) -> str: ...
    @property
    def db_schema(self) -> str: ...
    @property
    def secret_key(self) -> SecretStr | None: ...
    @property
    def platform_discord_base_url(self) -> str: ...
    @property
    def api_host(self) -> str: ...
    @property
    def api_port(self) -> int: ...


def group_id(settings: IntegrationsSettings) -> str:
    return f"{settings.topic_prefix}-{ROLE}"


def wanted(record: ConsumerRecord[bytes, bytes], now: float) -> bool:
    """Whether a record may answer an interaction, judged without parsing it."""
    if record.timestamp / 1000 < now - MAX_EVENT_AGE_SECONDS:
        return False
    kind = next((v for k, v in record.headers or () if k == TYPE_HEADER), None)
    # No header (an older record): parse it to find out.
    return kind is None or kind.decode(errors="replace") in TYPES


class IntegrationsProcess:
    def __init__(self, settings: IntegrationsSettings) -> None:
        secret = settings.secret_key
        value = None if secret is None else secret.get_secret_value()
        self.ring = ring_from_setting(value, "interaction tokens cannot be opened")
        self.settings = settings
        self.schema = settings.db_schema
        self.api_base = f"http://{settings.api_host}:{settings.api_port}"
        self.stopping = asyncio.Event()
        self.events = Topics(settings.topic_prefix).events
        self.consumer = AIOKafkaConsumer(
            **kafka_client_options(settings.kafka),
            group_id=group_id(settings),
            enable_auto_commit=False,
            # A new group reads what is there: outcomes of the last minutes may be in it.
            auto_offset_reset="earliest",
        )

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        pool = await asyncpg.create_pool(self.settings.dsn, min_size=1, max_size=2)
        async with pool.acquire() as conn:
            # The API may create them at the same moment.
            with contextlib.suppress(asyncpg.UniqueViolationError, asyncpg.DuplicateTableError):
                await inbound.create_tables(conn, self.schema)
        session = aiohttp.ClientSession()
        # The listener only tells the readiness probe: nothing here is per partition.
        self.consumer.subscribe([self.events], listener=Rebalance())
        await self.consumer.start()
        log.warning(READY_MESSAGE, role=ROLE, group=group_id(self.settings))
        swept = 0.0
        try:
            while not self.stopping.is_set():
                fetched = await self.consumer.getmany(timeout_ms=200, max_records=500)
                now = time.time()
                records = [r for rs in fetched.values() for r in rs if wanted(r, now)]
                for record in records:
                    await self._tell(pool, session, record)
                if fetched:
                    await self._commit(fetched)
                if now - swept > SWEEP_SECONDS:
                    async with pool.acquire() as conn:
                        await inbound.sweep(conn, self.schema)
                    swept = now
        finally:
            await self.consumer.stop()
            await session.close()
            await pool.close()

    async def _commit(self, fetched: dict[TopicPartition, list[Any]]) -> None:
        offsets = {tp: rs[-1].offset + 1 for tp, rs in fetched.items() if rs}
        try:
            await self.consumer.commit(offsets)
        except CommitFailedError:
            # A rebalance: the new owner reads these again; told rows are not told twice.
            log.warning("commit_failed_rebalanced")

    async def _tell(
        self,
        pool: asyncpg.Pool,
        session: aiohttp.ClientSession,
        record: ConsumerRecord[bytes, bytes],
    ) -> None:
        try:
            decoded = read(record.value)
        except DecodeError:
            return  # the projector dead-letters what nobody can read
        env = decoded.envelope
        if env.type not in TYPES:
            return
        async with pool.acquire() as conn:
            try:
                replies = await inbound.pending_replies(
                    conn,
                    self.schema,
                    self.ring,
                    command_id=env.command_id,
                    aggregate_id=env.aggregate_id,
                )
            except VaultError as exc:
                log.error("interaction_token_unreadable", reason=str(exc), event_id=str(env.id))
                return
        link = await self._link(pool, decoded, replies)
        for reply in replies:
            content = followup(decoded, reply, link)
            if content is None:
                continue
            sent = await send_followup(
                session,
                self.settings.platform_discord_base_url,
                reply.application_id,
                reply.token,
                content,
            )
            if sent is not Sent.FAILED:
                async with pool.acquire() as conn:
                    await inbound.mark_told(conn, self.schema, reply.command_id)
            log.info(
                "followup_" + sent.value,
                org_id=reply.org_id,
                command_id=str(reply.command_id),
                event_id=str(env.id),
            )

    async def _link(
        self, pool: asyncpg.Pool, decoded: Decoded[Message], replies: list[inbound.PendingReply]
    ) -> str | None:
        """A download link of a completed clip that someone is waiting for."""
        env = decoded.envelope
        if env.type != ClipCompleted.TYPE or not any(r.kind == "clip" for r in replies):
            return None
        asset_id = decoded.as_(ClipCompleted).output_asset_id
        async with pool.acquire() as conn:
            token = await downloads.create_link(
                conn, self.schema, env.org_id, asset_id, LINK_LIFETIME
            )
        return download_link(self.api_base, asset_id, token)


def main(settings: IntegrationsSettings) -> None:
    """Runs the consumer until SIGTERM or SIGINT."""
    run_until_signalled(lambda: IntegrationsProcess(settings))
