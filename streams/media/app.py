"""The media process: asset probing and clipping on the events topic, its own consumer group.

Its own group (``<prefix>-media``), apart from the decider's: a clip that runs for
minutes never delays a decision, and media work scales with media processes. A plain
aiokafka loop rather than a Faust agent (docs/decisions.md): nearly every event on
the topic is someone else's, and Faust's per-message machinery cost a quarter of a
core just to pass them by; here a pass is a header lookup. Handled events run
beside the loop (streams/media/lanes.py), and offsets are committed in log order
only past finished work (streams/runtime/offsets.py).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Protocol

import structlog
from aiokafka import ConsumerRecord, TopicPartition

from clipper import ClipLimits, ClipRunner, ClipSettings
from schemas.catalog import Topics
from streams.media.agent import EventAgent
from streams.media.assets import AssetProber
from streams.media.clipping import ClipHandler
from streams.media.deletion import AssetRemover
from streams.media.jobs import TABLE, Jobs
from streams.media.lanes import Lanes, Work
from streams.media.sources import KnownSources
from streams.media.sweeper import sweep, sweep_interval
from streams.runtime.app import StreamsSettings
from streams.runtime.changelog import ensure_compacted
from streams.runtime.clients import changelog_reader, durable_producer, group_member, stop_clients
from streams.runtime.consuming import commit_finished, pace
from streams.runtime.offsets import Offsets, PartitionOffsets
from streams.runtime.process import Rebalance, run_until_signalled
from streams.runtime.table import Tables

ROLE = "media"
READY_MESSAGE = "Worker ready"
MAX_BATCH = 2000
# Events taken but not finished, past which fetching pauses (a crash redoes at most these).
MAX_OPEN_WORK = 256
# Probes beside the clips: hashing and ffprobe, seconds each.
PROBE_SLOTS = 2
COMMIT_INTERVAL_SECONDS = 1.0
# On SIGTERM a probe may finish within this; clips are cancelled at once (redone later).
STOP_GRACE_SECONDS = 3.0
# As long for a revoked partition's work; the group waits meanwhile (well within the
# rebalance timeout, at least 10 s).
REVOKE_GRACE_SECONDS = 3.0
LINGER_MS = 5

log = structlog.get_logger("streams.media")


class MediaSettings(StreamsSettings, ClipSettings, Protocol):
    @property
    def media_root(self) -> Path: ...


def group_id(settings: StreamsSettings) -> str:
    return f"{settings.topic_prefix}-{ROLE}"


def jobs_changelog(settings: StreamsSettings) -> str:
    """The name the Faust app's table had, so its attempt counts read back."""
    return f"{group_id(settings)}-{TABLE}-changelog"


class MediaProcess:
    """Owns the clients; ``run`` works until ``stop`` is called."""

    def __init__(self, settings: MediaSettings) -> None:
        self.settings = settings
        self.topics = Topics(settings.topic_prefix)
        self.stopping = asyncio.Event()
        self.ready = False
        # Held while records are taken and offsets committed, and by the rebalance
        # listener: a partition never goes while its records are being taken.
        self.lock = asyncio.Lock()
        self.consumer = group_member(settings, group_id(settings), ROLE, max_poll_records=MAX_BATCH)
        self.restorer = changelog_reader(settings)
        self.producer = durable_producer(settings, linger_ms=LINGER_MS)
        root = Path(settings.worker_data_dir) / ROLE / group_id(settings)
        self.jobs = Tables(root, TABLE, jobs_changelog(settings), self.producer)
        media_root = Path(settings.media_root)
        limits = ClipLimits.from_settings(settings)
        # Sources probed and hashed by registration or a clip, for the clips after it.
        known = KnownSources()
        self.agent = EventAgent(
            self.producer,
            self.topics,
            [
                AssetProber(self.producer, self.topics, media_root, limits, known=known),
                ClipHandler(
                    self.producer, self.topics, ClipRunner(media_root, limits), known=known
                ),
                AssetRemover(self.producer, self.topics, media_root),
            ],
        )
        # The runner's own slots are as many, so a clip given a lane slot never waits.
        self.lanes = Lanes(
            {ClipHandler.name: settings.clip_concurrency, AssetProber.name: PROBE_SLOTS}
        )
        self.offsets = Offsets()
        self._last_commit = 0.0

    async def run(self) -> None:
        settings = self.settings
        await ensure_compacted(
            settings.kafka,
            jobs_changelog(settings),
            settings.topic_partitions,
            settings.topic_replication_factor,
        )
        await self.producer.start()
        await self.restorer.start()
        self.consumer.subscribe([self.topics.events], listener=Rebalance(self))
        await self.consumer.start()
        sweeper = asyncio.create_task(self._sweep_forever(), name="temp-file-sweeper")
        log.info("media_started", group=group_id(settings))
        try:
            while not self.stopping.is_set():
                pace(self.consumer, full=len(self.lanes) >= MAX_OPEN_WORK)
                fetched = await self.consumer.getmany(timeout_ms=200, max_records=MAX_BATCH)
                async with self.lock:
                    for tp, records in fetched.items():
                        self._take(tp, records)
                    await self._commit(force=False)
        finally:
            sweeper.cancel()
            await self._finish()
            await self.close()

    def stop(self) -> None:
        self.stopping.set()

    def _take(self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        offsets = self.offsets.partitions.get(tp)
        if offsets is None:
            return  # revoked since the fetch: its new owner reads these
        wanted = self.agent.wanted
        for record in records:
            if not wanted(record.headers):
                offsets.passed(record.offset)
                continue
            work = self.agent.plan(record, Jobs(self.jobs.get(tp.partition)))
            if work is None:
                offsets.passed(record.offset)
            else:
                self._start(tp, offsets, record.offset, work)

    def _start(
        self, tp: TopicPartition, offsets: PartitionOffsets, offset: int, work: Work
    ) -> None:
        offsets.opened(offset)
        self.lanes.start(tp, work, lambda: offsets.finished(offset))

    async def _commit(self, *, force: bool, only: set[TopicPartition] | None = None) -> None:
        now = time.monotonic()
        if not force and now - self._last_commit < COMMIT_INTERVAL_SECONDS:
            return
        if await commit_finished(self.consumer, self.offsets, self.offsets.due(only)):
            self._last_commit = now

    async def _finish(self) -> None:
        """Shutdown: clips are cancelled (redone after the restart), probes get a moment."""
        cancelled = await self.lanes.cancel(lambda r: r.lane == ClipHandler.name)
        await self.lanes.wait(STOP_GRACE_SECONDS)
        cancelled += await self.lanes.cancel(lambda r: True)
        if cancelled:
            log.info("unfinished_work_left_for_the_restart", count=cancelled)
        async with self.lock:
            await self._commit(force=True)

    async def close(self) -> None:
        """Stops the clients and closes the stores.

        Without a LeaveGroup under static membership: a restart takes the same
        partitions back; a process that stays down loses them at session expiry.
        """
        await stop_clients(self.consumer, self.restorer, self.producer)
        self.jobs.close_all()

    async def assigned(self, partitions: set[TopicPartition]) -> None:
        async with self.lock:
            for tp in sorted(partitions):
                await self.jobs.open(tp.partition, self.restorer)
                self.offsets.assign(tp)
        if not self.ready:
            self.ready = True
            # The line operators and the tests wait for, as faust's worker printed it.
            log.warning(READY_MESSAGE, partitions=sorted(tp.partition for tp in partitions))

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        """The work of revoked partitions stops; what finished is committed before they go.

        Work gets a moment to finish (a probe, a short clip); waiting for a long clip
        instead could outlast the rebalance timeout, so it is cancelled and its new
        owner redoes it under the same command ids.
        """
        gone = set(partitions)
        if not gone:
            return  # aiokafka calls this on the first join too
        async with self.lock:
            await self.lanes.wait(REVOKE_GRACE_SECONDS, lambda r: r.tp in gone)
            cancelled = await self.lanes.cancel_partitions(gone)
            await self._commit(force=True, only=gone)
            log.info(
                "partitions_revoked",
                partitions=sorted(tp.partition for tp in gone),
                cancelled=cancelled,
            )
            for tp in partitions:
                self.offsets.revoke(tp)
                self.jobs.close(tp.partition)

    async def _sweep_forever(self) -> None:
        timeout = self.settings.clip_timeout_seconds
        media_root = Path(self.settings.media_root)
        while True:  # at start first: a crash's leftovers go first
            try:
                await sweep(media_root, timeout)
            except OSError as exc:
                log.warning("temp_file_sweep_failed", error=repr(exc))
            await asyncio.sleep(sweep_interval(timeout))


def main(settings: MediaSettings) -> None:
    """Runs the media process until SIGTERM or SIGINT."""
    run_until_signalled(lambda: MediaProcess(settings))
