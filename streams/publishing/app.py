"""The publisher's process: its consumer group on the events topic, its tables, the scheduler.

Its own group (``<prefix>-publisher``), apart from the decider and the media
process: a clip that runs for minutes never delays a post, and publishing scales with
its own processes. A plain aiokafka loop like theirs (docs/decisions.md): per
fetched batch the publisher's events are folded in log order into its tables
(streams/publishing/state.py) and attempts start beside the loop; about once a
second the writes go to the changelogs, then offsets are committed, never past an
attempt that has not ended (streams/runtime/offsets.py), so a crash redelivers every
event whose work was not done. ``WINDOW`` bounds the attempts running at once.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import structlog
from aiokafka import ConsumerRecord, TopicPartition

from schemas.catalog import Topics
from schemas.codec import encode
from schemas.envelope import Envelope
from streams.publishing.adapters.backoff import Backoff
from streams.publishing.adapters.registry import utc_now
from streams.publishing.agent import WINDOW, PublisherAgent
from streams.publishing.attempt import AttemptPolicy, AttemptRunner
from streams.publishing.attempts import Attempts
from streams.publishing.connections import Connections
from streams.publishing.handler import PublishHandler
from streams.publishing.metrics_reader import MetricsReader
from streams.publishing.metrics_schedule import ReadSchedule
from streams.publishing.metrics_tracking import Reads
from streams.publishing.resources import PublisherSettings, Resources
from streams.publishing.scheduler import Scheduler
from streams.publishing.state import TABLES, State, changelog_topic
from streams.publishing.tracking import Tracker
from streams.runtime.changelog import ensure_compacted
from streams.runtime.clients import changelog_reader, durable_producer, group_member, stop_clients
from streams.runtime.consuming import commit_finished, pace
from streams.runtime.offsets import Offsets
from streams.runtime.process import Rebalance, run_until_signalled
from streams.runtime.producing import produce_batched
from streams.runtime.sending import Outgoing, SharedFlush, SharedProduce
from vault.keyring import KeyRing, ring_from_setting

ROLE = "publisher"
READY_MESSAGE = "Worker ready"
MAX_BATCH = 1000
COMMIT_INTERVAL_SECONDS = 1.0
# A revoked partition's attempts get this long to end; the rest are cancelled (their
# calling marks make the new owner reconcile). Well within the rebalance timeout.
REVOKE_GRACE_SECONDS = 3.0
LINGER_MS = 5

log = structlog.get_logger("streams.publishing")


def group_id(settings: PublisherSettings) -> str:
    return f"{settings.topic_prefix}-{ROLE}"


class PublisherProcess:
    """Owns the clients; ``run`` works until ``stop`` is called."""

    def __init__(self, settings: PublisherSettings, ring: KeyRing) -> None:
        self.settings = settings
        self.topics = Topics(settings.topic_prefix)
        self.stopping = asyncio.Event()
        self.ready = False
        # Held while records are taken and offsets committed, and by the rebalance
        # listener: a partition never goes while its records are being taken.
        self.lock = asyncio.Lock()
        group = group_id(settings)
        self.consumer = group_member(settings, group, ROLE, max_poll_records=MAX_BATCH)
        self.restorer = changelog_reader(settings)
        self.producer = durable_producer(settings, linger_ms=LINGER_MS)
        self.state = State(Path(settings.worker_data_dir) / ROLE / group, group, self.producer)
        self.tracker = Tracker(self.state.items, self.state.due)
        self.connections = Connections(None, settings.db_schema, ring)
        self.resources = Resources(settings, self.connections)
        # Attempts side by side, each flushing its calling mark: one flush per round.
        self.flush = SharedFlush(self.state.flush)
        # Their result commands likewise: one produce per round of attempts reporting.
        self.reports = SharedProduce(partial(produce_batched, self.producer, checked=True))
        policy = AttemptPolicy(
            backoff=Backoff(
                base_seconds=settings.publish_retry_base_seconds,
                cap_seconds=settings.publish_retry_cap_seconds,
                max_attempts=settings.publish_max_attempts,
            ),
            start_max_age=timedelta(seconds=settings.publish_start_max_age_seconds),
        )
        adapters = self.resources.adapters
        runner = AttemptRunner(
            self.tracker, adapters, self.connections, policy, self.report, self.flush, utc_now
        )
        schedule = ReadSchedule.from_settings(settings)
        reads = Reads(self.state.reads)
        handler = PublishHandler(
            self.tracker,
            self.connections,
            runner,
            reads=reads,
            adapters=adapters,
            schedule=schedule,
            clock=utc_now,
        )
        self.agent = PublisherAgent(self.producer, self.topics, handler)
        self.attempts = Attempts()
        self.offsets = Offsets()
        self.scheduler = Scheduler(self.send, self.topics, self.tracker)
        self.reader = MetricsReader(
            self.send,
            self.topics,
            reads,
            adapters,
            self.connections,
            schedule,
            utc_now,
            settings.metrics_concurrency,
        )
        self._last_commit = 0.0

    async def send(self, batch: list[Outgoing], bound: Any) -> None:
        await produce_batched(self.producer, batch, bound)

    async def report(self, envelopes: list[Envelope], bound: Any) -> None:
        """An attempt's commands, keyed by their item, acked before the attempt goes on
        (in one produce with the other attempts' of the same round)."""
        commands = self.topics.commands
        batch = [Outgoing(commands, str(e.aggregate_id).encode(), encode(e)) for e in envelopes]
        await self.reports(batch)

    async def run(self) -> None:
        settings = self.settings
        for table in TABLES:
            await ensure_compacted(
                settings.kafka,
                changelog_topic(group_id(settings), table),
                settings.topic_partitions,
                settings.topic_replication_factor,
            )
        await self.resources.open()
        await self.producer.start()
        await self.restorer.start()
        self.consumer.subscribe([self.topics.events], listener=Rebalance(self))
        await self.consumer.start()
        timers = [
            asyncio.create_task(self._schedule(settings.publish_tick_seconds)),
            asyncio.create_task(self._every(settings.metrics_tick_seconds, self.reader.tick)),
        ]
        log.info("publisher_started", group=group_id(settings))
        try:
            while not self.stopping.is_set():
                pace(self.consumer, full=len(self.attempts) >= WINDOW)  # WINDOW attempts at once
                fetched = await self.consumer.getmany(timeout_ms=200, max_records=MAX_BATCH)
                async with self.lock:
                    for tp, records in fetched.items():
                        self._take(tp, records)
                    await self._commit(force=False)
        finally:
            for timer in timers:
                timer.cancel()
            await self._finish()
            await self.close()

    def stop(self) -> None:
        self.stopping.set()

    async def _every(self, seconds: float, tick: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self._tick(tick)

    async def _schedule(self, seconds: float) -> None:
        """The scheduler's timer: every ``seconds``, and at the time an entry falls due."""
        while True:
            await asyncio.sleep(self.scheduler.wait(seconds))
            await self._tick(self.scheduler.tick)

    async def _tick(self, tick: Any) -> None:
        try:
            await tick()
        except Exception:  # the next tick tries again; a bug must not stop the timer
            log.exception("timer_tick_failed", timer=getattr(tick, "__qualname__", "?"))

    def _take(self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        offsets = self.offsets.partitions.get(tp)
        if offsets is None:
            return  # revoked since the fetch: its new owner reads these
        partition = tp.partition

        def key_at(key: str) -> None:
            self.state.locate(key, partition)

        for record in records:
            work = self.agent.plan(record, key_at) if self.agent.wanted(record.headers) else None
            if work is None:
                offsets.passed(record.offset)
                continue
            offsets.opened(record.offset)
            self.attempts.start(tp, work, partial(offsets.finished, record.offset))

    async def _commit(self, *, force: bool, only: set[TopicPartition] | None = None) -> None:
        """The folds of everything taken on the changelogs, then the offsets of what ended.

        At most once per ``COMMIT_INTERVAL_SECONDS`` unless forced: the folds need to be
        on the changelogs only before the offsets of their events are committed (a
        crash before that redelivers the events, which fold again). Meanwhile the
        attempts' calling-mark flushes take them along, and the writes of one item in
        between (its start, its marks, its outcome) go out as one record. Flushing per
        fetched batch held the loop on changelog acks every batch and wrote each of them.

        The positions are read before the flush: an attempt that ended by then wrote
        its last marks already, so the flush carries them before the commit passes it.
        """
        now = time.monotonic()
        if not force and now - self._last_commit < COMMIT_INTERVAL_SECONDS:
            return
        due = self.offsets.due(only)
        await self.flush()
        # Nothing due (or a failed commit, which is only late) waits for the next interval.
        await commit_finished(self.consumer, self.offsets, due)
        self._last_commit = now

    async def _finish(self) -> None:
        """Shutdown: attempts are cut off (their calling marks and uncommitted events make
        the restart reconcile them), the rest is flushed and committed."""
        cancelled = await self.attempts.cancel(lambda tp: True)
        if cancelled:
            log.info("unfinished_attempts_left_for_the_restart", count=cancelled)
        await self.reader.stop()
        async with self.lock:
            await self._commit(force=True)

    async def close(self) -> None:
        """Stops the clients and closes the stores (no LeaveGroup: static membership)."""
        await stop_clients(self.consumer, self.restorer, self.producer)
        await self.resources.close()
        self.state.close_all()

    async def assigned(self, partitions: set[TopicPartition]) -> None:
        async with self.lock:
            for tp in sorted(partitions):
                await self.state.open(tp.partition, self.restorer)
                self.offsets.assign(tp)
            log.info("due_index_rebuilt", entries=self.tracker.reindex())
        if not self.ready:
            self.ready = True
            # The line operators and the tests wait for, as faust's worker printed it.
            log.warning(READY_MESSAGE, partitions=sorted(tp.partition for tp in partitions))

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        """Attempts of revoked partitions get a moment, then stop; what ended is committed."""
        gone = set(partitions)
        if not gone:
            return  # aiokafka calls this on the first join too
        async with self.lock:
            await self.attempts.wait(REVOKE_GRACE_SECONDS, lambda tp: tp in gone)
            cancelled = await self.attempts.cancel(lambda tp: tp in gone)
            await self._commit(force=True, only=gone)
            for tp in gone:
                self.offsets.revoke(tp)
                self.state.close(tp.partition)
            # In the same step as the close: the scheduler never sees a gone item.
            self.tracker.reindex()
            log.info(
                "partitions_revoked",
                partitions=sorted(tp.partition for tp in gone),
                cancelled=cancelled,
            )


def main(settings: PublisherSettings) -> None:
    """Runs the publisher until SIGTERM or SIGINT (MissingKeyRing first, without a ring)."""
    secret = settings.secret_key
    value = None if secret is None else secret.get_secret_value()
    ring = ring_from_setting(value, "the publisher can't open connections")
    run_until_signalled(lambda: PublisherProcess(settings, ring))
