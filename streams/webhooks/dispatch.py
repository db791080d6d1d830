"""Claiming due deliveries and running them in per-subscription lanes.

Isolation: every subscription has its own lane (a semaphore of
``webhook_concurrency_per_subscription``) and every request its own time limit, and the
claim query skips subscriptions whose lane is full, so a slow or dead endpoint holds
only its own lane; everyone else's due rows are claimed and sent meanwhile.
At-least-once: a row is moved on only after its attempt is recorded on the log; a crash
before that lets the claim expire and the same attempt (same webhook-id) run again,
and the decider records it once (the record's command id derives from the attempt).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import aiohttp
import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from schemas.base import Command
from schemas.catalog import Topics
from schemas.codec import encode, wrap
from schemas.envelope import Actor
from schemas.webhooks import DisableWebhook, RecordWebhookDelivery
from streams.webhooks import attempts, metrics, sender, store
from streams.webhooks.attempts import Answer, Verdict
from streams.webhooks.mover import Move, Mover
from streams.webhooks.sender import Signer
from streams.webhooks.store import DueRow
from streams.webhooks.subscriptions import Registry, Subscription
from vault import keytable, webhook_secrets
from vault.keyring import KeyRing, VaultError

ACTOR = Actor(sub="wavestack-webhooks", kind="service")
# A subscription is claimed for while it holds fewer than CLAIM_LANES lanes' worth of
# unsent rows (a lane in requests and one waiting, so its lane never runs dry while a
# claim query is on its way), and a claim takes up to CLAIM_LANES lanes' worth: one
# claim query per CLAIM_LANES x lane deliveries of a busy subscription.
CLAIM_LANES = 2
HELD_LANES = 2 * CLAIM_LANES
# Claimed rows in this process at once. Each subscription holds fewer than HELD_LANES x
# its lane of them, so stuck subscribers starve the others only past
# MAX_IN_FLIGHT / (HELD_LANES x lane).
MAX_IN_FLIGHT = 5000

log = structlog.get_logger("streams.webhooks")


class Dispatcher:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        db_schema: str,
        producer: AIOKafkaProducer,
        topics: Topics,
        registry: Registry,
        ring: KeyRing,
        session: aiohttp.ClientSession,
        schedule: Sequence[float],
        timeout_seconds: float,
        per_subscription: int,
        poll_seconds: float,
    ) -> None:
        self.pool = pool
        self.db_schema = db_schema
        self.producer = producer
        self.topics = topics
        self.registry = registry
        self.ring = ring
        self.session = session
        self.schedule = list(schedule)
        self.request_timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.per_subscription = per_subscription
        self.poll_seconds = poll_seconds
        # Long enough for a row to wait behind the rows claimed before it, lane by lane,
        # each of them timing out, and then time out itself.
        self.claim_seconds = HELD_LANES * timeout_seconds + 5
        self.wake = asyncio.Event()
        self.lanes: dict[uuid.UUID, asyncio.Semaphore] = {}
        self.in_flight: dict[uuid.UUID, int] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.keys: dict[uuid.UUID, bytes] = {}
        # The signer of a subscription's live set, for its version, until the first of
        # its secrets expires (the set changes only on rotation or at an expiry), so a
        # delivery neither derives nor decodes a secret.
        self.signers: dict[uuid.UUID, tuple[int, datetime | None, Signer]] = {}
        # Set when a claim round left rows behind for want of room (MAX_IN_FLIGHT).
        self.crowded = False
        self.mover = Mover(pool, db_schema)

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.poll_seconds)
            self.wake.clear()
            try:
                await self.claim_round()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("webhook_claim_failed", error=repr(exc))
                await asyncio.sleep(self.poll_seconds)

    async def claim_round(self) -> None:
        room = MAX_IN_FLIGHT - len(self.tasks)
        if room <= 0:
            self.crowded = True
            return
        enough = CLAIM_LANES * self.per_subscription
        busy = [s for s, n in self.in_flight.items() if n >= enough]
        async with self.pool.acquire() as conn:
            rows = await store.claim(
                conn,
                self.db_schema,
                busy,
                enough,
                room,
                self.claim_seconds,
            )
        self.crowded = len(rows) >= room
        for row in rows:
            self.in_flight[row.subscription_id] = self.in_flight.get(row.subscription_id, 0) + 1
            task = asyncio.create_task(self._run(row))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _run(self, row: DueRow) -> None:
        lane = self.lanes.setdefault(row.subscription_id, asyncio.Semaphore(self.per_subscription))
        counted = [False]

        def sent() -> None:
            """The row no longer waits for its lane: its subscription may have room again."""
            if counted[0]:
                return
            counted[0] = True
            left = self.in_flight.get(row.subscription_id, 1) - 1
            if left <= 0:
                self.in_flight.pop(row.subscription_id, None)
            else:
                self.in_flight[row.subscription_id] = left
            # A claim only when this subscription just stopped being busy (or rows were
            # left for want of room): waking on every request ran a claim query per
            # delivery, nearly all of them finding the subscription still busy.
            if left == CLAIM_LANES * self.per_subscription - 1 or self.crowded:
                self.wake.set()

        try:
            await self.deliver(row, lane, sent)
        except Exception:
            metrics.ERRORS.inc()
            log.exception("webhook_delivery_error", delivery_id=str(row.delivery_id))
        finally:
            sent()
            if row.subscription_id not in self.in_flight and not lane.locked():
                self.lanes.pop(row.subscription_id, None)

    async def deliver(
        self, row: DueRow, lane: asyncio.Semaphore, sent: Callable[[], None] = lambda: None
    ) -> None:
        """The lane bounds the subscriber's requests only; recording and moving the row
        on happen outside it, so a slow log or database never holds a subscriber back."""
        sub = self.registry.by_id.get(row.subscription_id)
        now = datetime.now(UTC)
        signer = await self._signer(sub, now) if sub and sub.status == "active" else None
        if sub is None or signer is None:
            # Deleted or disabled meanwhile: nothing is sent. A delivery already shown
            # as retrying says why it stopped.
            if row.attempt > 1:
                why = Answer(None, "the subscription is no longer active")
                await self._record(row, Verdict("dropped"), why, now)
            await self._finish(row)
            return
        async with lane:
            started = time.monotonic()
            answer = await sender.post(
                self.session,
                sub.url,
                signer,
                str(row.event_id),
                row.body,
                self.request_timeout,
                now,
            )
        metrics.REQUEST_SECONDS.observe(time.monotonic() - started)
        sent()
        verdict = attempts.judge(answer, row.attempt, self.schedule, datetime.now(UTC))
        await self._record(row, verdict, answer, now)
        if verdict.outcome == "disabled":
            await self._disable(sub)
        if verdict.outcome == "retrying" and verdict.next_attempt_at is not None:
            await self.mover.move(Move(row.delivery_id, row.attempt + 1, verdict.next_attempt_at))
        else:
            await self._finish(row)
        metrics.ATTEMPTS.labels(verdict.outcome).inc()
        log.info(
            "webhook_attempt",
            delivery_id=str(row.delivery_id),
            org_id=row.org_id,
            attempt=row.attempt,
            outcome=verdict.outcome,
            status=answer.status,
        )

    async def _signer(self, sub: Subscription, now: datetime) -> Signer | None:
        cached = self.signers.get(sub.id)
        if (
            cached is not None
            and cached[0] == sub.version
            and (cached[1] is None or now < cached[1])
        ):
            return cached[2]
        key = self.keys.get(sub.id)
        if key is None:
            async with self.pool.acquire() as conn:
                stored = await keytable.load(conn, self.db_schema, str(sub.id))
            if stored is None or stored.org_id != sub.org_id:
                return None  # shredded: the subscription was deleted
            try:
                key = webhook_secrets.data_key(stored, self.ring)
            except VaultError:
                log.error("webhook_key_unusable", subscription_id=str(sub.id))
                return None
            self.keys[sub.id] = key
        live = sub.signing(now)
        secrets = [
            webhook_secrets.derive_secret(key, sub.org_id, str(sub.id), s.command_id) for s in live
        ]
        until = min((s.expires_at for s in live if s.expires_at is not None), default=None)
        signer = Signer.of(secrets)
        self.signers[sub.id] = (sub.version, until, signer)
        return signer

    def forget(self, subscription_id: uuid.UUID) -> None:
        self.keys.pop(subscription_id, None)
        self.signers.pop(subscription_id, None)

    async def _finish(self, row: DueRow) -> None:
        await self.mover.move(Move(row.delivery_id))

    async def _record(self, row: DueRow, verdict: Verdict, answer: Answer, at: datetime) -> None:
        command = RecordWebhookDelivery(
            subscription_id=row.subscription_id,
            event_id=row.event_id,
            event_type=row.event_type,
            replay_id=row.replay_id,
            attempt=row.attempt,
            outcome=verdict.outcome,
            response_status=answer.status,
            summary=answer.summary[:200],
            next_attempt_at=verdict.next_attempt_at,
            attempted_at=at,
        )
        command_id = attempts.record_command_id(row.delivery_id, row.attempt)
        await self._send(command, command_id, row.org_id, row.delivery_id, row.event_id, at)

    async def _disable(self, sub: Subscription) -> None:
        command = DisableWebhook(reason="the endpoint answered 410 Gone")
        command_id = attempts.disable_command_id(sub.id)
        await self._send(command, command_id, sub.org_id, sub.id, command_id, datetime.now(UTC))
        # Stop at once here; the event brings every other process along.
        if sub.status == "active":
            self.registry.put(replace(sub, status="disabled"))

    async def _send(
        self,
        command: Command,
        command_id: uuid.UUID,
        org_id: str,
        aggregate_id: uuid.UUID,
        correlation_id: uuid.UUID,
        at: datetime,
    ) -> None:
        envelope = wrap(
            command,
            id=command_id,
            org_id=org_id,
            aggregate_id=aggregate_id,
            occurred_at=at,
            command_id=command_id,
            correlation_id=correlation_id,
            causation_id=correlation_id,
            actor=ACTOR,
        )
        ack = await self.producer.send(
            self.topics.commands, encode(envelope), key=str(aggregate_id).encode()
        )
        await ack

    async def drain(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
