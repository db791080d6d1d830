"""The decider's process: its consumer group on the commands topic, its stores, its loop.

Plain aiokafka rather than a Faust agent: the decider is the one hot path every
command crosses, and Faust's per-message machinery (stream, per-key table writes,
changelog buffer) cost it more than the deciding itself (docs/decisions.md); the
other processes followed. The consumer group keeps the name the Faust app had,
``<prefix>-worker``, and the state keeps its changelog topic and format.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import structlog
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from schemas.catalog import Topics
from streams import metrics
from streams.decider.agent import MAX_BATCH, Decider, Record
from streams.decider.restore import restore
from streams.decider.state import Stores
from streams.runtime.acking import SEND_LOST_EXIT
from streams.runtime.app import StreamsSettings
from streams.runtime.changelog import ensure_compacted
from streams.runtime.clients import changelog_reader, durable_producer, group_member, stop_clients
from streams.runtime.process import Rebalance, run_until_signalled

ROLE = "decider"
READY_MESSAGE = "Worker ready"
LINGER_MS = 2
# Offsets are committed at most this often, or once a batch's worth of commands waits
# (Kafka Streams' commit.interval.ms under exactly-once is 100 ms too). Under a steady
# load a batch holds a few commands, and a commit per batch was a tenth of the
# decider's CPU and as many offset writes for the broker. A crash redelivers what was
# not committed, and the stored decisions answer it (streams/decider/agent.py).
COMMIT_INTERVAL_S = 0.1

log = structlog.get_logger("streams.decider")


def group_id(settings: StreamsSettings) -> str:
    return f"{settings.topic_prefix}-worker"


def changelog_topic(settings: StreamsSettings) -> str:
    return f"{group_id(settings)}-aggregates-changelog"


class DeciderProcess:
    """Owns the clients; ``run`` decides until ``stop`` is called (or a send is lost)."""

    def __init__(self, settings: StreamsSettings) -> None:
        self.settings = settings
        self.topics = Topics(settings.topic_prefix)
        self.stores = Stores(Path(settings.worker_data_dir) / ROLE / group_id(settings))
        self.decider = Decider(self.topics, self.stores, changelog_topic(settings))
        self.batch_lock = asyncio.Lock()
        self._committing: asyncio.Task[None] | None = None
        # Decided and sent, not committed yet: next offset per partition, and how many.
        self._uncommitted: dict[TopicPartition, int] = {}
        self._uncommitted_commands = 0
        self._last_commit = time.monotonic()
        self.stopping = asyncio.Event()
        self.ready = False
        self.consumer = group_member(settings, group_id(settings), ROLE, max_poll_records=MAX_BATCH)
        self.restorer = changelog_reader(settings)
        self.producer = durable_producer(settings, linger_ms=LINGER_MS, max_batch_size=256 * 1024)

    async def run(self) -> None:
        settings = self.settings
        await ensure_compacted(
            settings.kafka,
            changelog_topic(settings),
            settings.topic_partitions,
            settings.topic_replication_factor,
        )
        await self.producer.start()
        await self.restorer.start()
        self.consumer.subscribe([self.topics.commands], listener=Rebalance(self))
        await self.consumer.start()
        log.info("decider_started", group=group_id(self.settings))
        try:
            while not self.stopping.is_set():
                waiting = 1000 * COMMIT_INTERVAL_S if self._uncommitted else 200
                fetched = await self.consumer.getmany(timeout_ms=waiting, max_records=MAX_BATCH)
                if fetched:
                    await self._decide(fetched)
                else:
                    async with self.batch_lock:
                        await self._commit_pending()  # idle: nothing to wait for
        finally:
            await self.close()

    async def close(self) -> None:
        """Stops the clients (started or not) and closes the stores.

        Without a LeaveGroup under static membership: a restart takes the same
        partitions back; a process that stays down loses them at session expiry.
        """
        try:
            async with self.batch_lock:
                await self._commit_pending()  # before the clients stop
                await self._committed()
        except Exception as exc:  # uncommitted, so decided again: nothing is lost
            log.warning("commit_unfinished_at_stop", error=repr(exc))
        await stop_clients(self.consumer, self.restorer, self.producer)
        self.stores.close_all()

    def stop(self) -> None:
        self.stopping.set()

    async def _decide(self, fetched: dict[TopicPartition, list[Any]]) -> None:
        async with self.batch_lock:
            # A rebalance may have taken partitions away since the fetch: their records
            # are the new owner's (nothing of them was committed here).
            records = [
                Record.of(r)
                for tp, rs in fetched.items()
                if self.stores.owns(tp.partition)
                for r in rs
            ]
            if not records:
                return
            batch = self.decider.decide_batch(records)
            try:
                await self.decider.apply(self.producer, batch)
            except KafkaError as exc:
                # Every retry aiokafka makes is behind us. Stopping leaves the batch
                # uncommitted; the restart decides it again (module docstring of
                # streams/decider/agent.py), in order.
                log.critical("send_lost_stopping", error=repr(exc))
                os._exit(SEND_LOST_EXIT)
            self._uncommitted.update(batch.offsets)
            self._uncommitted_commands += batch.commands
            interval_over = time.monotonic() - self._last_commit >= COMMIT_INTERVAL_S
            if interval_over or self._uncommitted_commands >= MAX_BATCH:
                await self._commit_pending()
            metrics.BATCH_SIZE.observe(batch.commands)

    async def _commit_pending(self) -> None:
        """Starts committing what was decided since the last commit (the caller holds
        ``batch_lock``).

        Committed while the next batches are fetched, decided and sent: a crash before
        the commit lands decides them again from the changelog they wrote (the stored
        decisions, envelopes sent again byte for byte), whatever came after. Commits
        stay in order: each waits for the one before.
        """
        if not self._uncommitted:
            return
        await self._committed()
        offsets, self._uncommitted = self._uncommitted, {}
        self._uncommitted_commands = 0
        self._last_commit = time.monotonic()
        self._committing = asyncio.create_task(self._commit(offsets))

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self.consumer.commit(offsets)
        except CommitFailedError:
            # The group moved on (a rebalance): the new owner decides these again,
            # from the state this batch left in the changelog.
            log.warning("commit_failed_rebalanced", partitions=len(offsets))

    async def _committed(self) -> None:
        """Waits for the last batch's commit (started, not awaited, by ``_decide``)."""
        if self._committing is not None:
            committing, self._committing = self._committing, None
            await committing

    async def assigned(self, partitions: set[TopicPartition]) -> None:
        async with self.batch_lock:
            for tp in sorted(partitions):
                store = self.stores.open(tp.partition)
                changelog = TopicPartition(changelog_topic(self.settings), tp.partition)
                await restore(self.restorer, changelog, store)
        if not self.ready:
            self.ready = True
            # The line operators and the tests wait for, as faust's worker printed it.
            log.warning(READY_MESSAGE, partitions=sorted(tp.partition for tp in partitions))

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        # Commits what was decided, and waits for it, before the partitions go.
        async with self.batch_lock:
            await self._commit_pending()
            await self._committed()
            for tp in partitions:
                self.stores.close(tp.partition)


def main(settings: StreamsSettings) -> None:
    """Runs the decider until SIGTERM or SIGINT."""
    run_until_signalled(lambda: DeciderProcess(settings))
