"""Building commands like the API does, producing them, and reading what the decider wrote."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.base import Command
from schemas.codec import DecodeError, decode, encode, wrap
from schemas.envelope import Actor, Envelope
from schemas.ids import aggregate_id_for, command_id_for
from tests.conftest import TEST_PARTITIONS
from tests.isolation import delete_topics, own_settings
from tests.processes import Child
from wavestack.settings import Settings
from wavestack.topics import ensure_topics

ACTOR = Actor(sub="tester", kind="user")


def creating(org: str, idempotency_key: str, command: Command) -> Envelope:
    """A creating command as the API builds it: every id derived from the key."""
    command_id = command_id_for(org, idempotency_key)
    return _envelope(org, command, command_id, aggregate_id_for(command_id))


def addressing(org: str, aggregate_id: uuid.UUID, command: Command) -> Envelope:
    """A command on an existing aggregate (cancel, reschedule): a fresh command id."""
    return _envelope(org, command, uuid.uuid4(), aggregate_id)


def _envelope(
    org: str, command: Command, command_id: uuid.UUID, aggregate_id: uuid.UUID
) -> Envelope:
    return wrap(
        command,
        id=command_id,
        org_id=org,
        aggregate_id=aggregate_id,
        occurred_at=datetime.now(UTC),
        command_id=command_id,
        correlation_id=command_id,
        causation_id=command_id,
        actor=ACTOR,
    )


async def produce(
    settings: Settings,
    messages: Sequence[tuple[bytes | None, bytes]],
    topic: str | None = None,
    partition: int | None = None,
) -> None:
    """Produces (key, value) pairs to ``topic`` (the commands topic by default), in
    order, acks=all; to ``partition`` if given, else where the key hashes."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        for key, value in messages:
            target = topic or settings.topics.commands
            await producer.send(target, value, key=key, partition=partition)
        await producer.flush()
    finally:
        await producer.stop()


async def committed_and_ends(
    settings: Settings, group: str, topic: str
) -> tuple[dict[int, int], dict[int, int]]:
    """A group's committed offsets on ``topic`` and the topic's end offsets, by partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        tps = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
        await admin.close()
    done = {tp.partition: m.offset for tp, m in committed.items() if tp.topic == topic}
    return done, {tp.partition: end for tp, end in ends.items()}


async def send_commands(settings: Settings, envelopes: Sequence[Envelope]) -> None:
    await produce(settings, [(str(e.aggregate_id).encode(), encode(e)) for e in envelopes])


@dataclass
class Record:
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    decodes: bool = False  # an events-topic record: its value is an envelope

    @functools.cached_property
    def envelope(self) -> Envelope | None:
        """Decoded when first asked for, not as it is read: a benchmark reading the
        events beside the processes it measures must not take their CPU to decode
        thousands of envelopes nobody looks at. Tests put poison on the events topic
        too; it stays a raw record (None)."""
        if not self.decodes:
            return None
        with contextlib.suppress(DecodeError):
            return decode(self.value)
        return None


@dataclass
class TopicReader:
    """Reads one topic from the beginning in the background; tests poll ``records``."""

    settings: Settings
    topic: str
    records: list[Record] = field(default_factory=list)
    _consumer: AIOKafkaConsumer | None = None
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.settings.kafka_bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._consumer is not None
        events = self.topic.endswith(".events")
        async for msg in self._consumer:
            headers = {k: v for k, v in msg.headers}
            self.records.append(Record(msg.key, msg.value, headers, events))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self._consumer:
            await self._consumer.stop()

    @property
    def envelopes(self) -> list[Envelope]:
        return [r.envelope for r in self.records if r.envelope is not None]

    async def wait_until(
        self, condition: Callable[[TopicReader], bool], timeout: float = 30.0
    ) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition(self):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.topic}: condition not met; have {len(self.records)}")
            await asyncio.sleep(0.1)

    def outcomes(self) -> dict[uuid.UUID, list[Envelope]]:
        """Outcome envelopes by command id (duplicates re-sent identically included)."""
        found: dict[uuid.UUID, list[Envelope]] = {}
        for e in self.envelopes:
            if e.type == "command.CommandOutcomeRecorded":
                found.setdefault(e.command_id, []).append(e)
        return found

    def of_type(self, message_type: str) -> list[Envelope]:
        return [e for e in self.envelopes if e.type == message_type]


# Short, so a dead member's partitions move on within seconds in the tests that need it.
TEST_SESSION_TIMEOUT = 6.0


class Worker(Child):
    """One streams app as a child process (tests/integration/streams/run_worker.py)."""

    def __init__(
        self, settings: Settings, log_dir: Path, role: str = "decider", *, gated: bool = False
    ) -> None:
        """``gated``: each start loads the app and waits for ``open_gate()`` to run it."""
        self.gate = log_dir / f"{role}.gate" if gated else None
        extra = {"TEST_WORKER_GATE": str(self.gate)} if self.gate else {}
        super().__init__(role, settings, log_dir, **extra)
        self.role = role
        self.starts = 0

    async def at_gate(self, timeout: float = 60.0) -> None:
        """Waits until the started process has loaded and waits at its gate."""
        await self.wait_for_output("waiting for the gate", timeout)

    def open_gate(self) -> None:
        assert self.gate is not None, "a worker made with gated=True"
        self.gate.touch()

    async def start(self) -> None:
        self.starts += 1
        log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.streams.run_worker",
            self.role,
            stdout=log,
            stderr=log,
            env=dict(self.env),
        )
        log.close()

    async def restart(self) -> None:
        """Starts again at once (after a kill: while the dead member's session is open)."""
        await self.start()
        await self.ready()

    async def ready(self, timeout: float = 90.0) -> None:
        """Waits until this start logged 'Worker ready' (the log file spans restarts)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.output().count("Worker ready") < self.starts:
            if self.proc and self.proc.returncode is not None:
                raise AssertionError(f"worker exited early:\n{self.output()[-3000:]}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"worker never got ready:\n{self.output()[-3000:]}")
            await asyncio.sleep(0.2)


@dataclass
class Stack:
    """The decider and the media app on their own topics, with readers of events and DLQ."""

    settings: Settings
    decider: Worker
    media: Worker
    events: TopicReader
    dlq: TopicReader

    @property
    def workers(self) -> tuple[Worker, Worker]:
        return (self.decider, self.media)

    @classmethod
    async def start(cls, base: Settings, folder: Path, **overrides: Any) -> Stack:
        """``overrides``: more settings for the worker (e.g. clip limits)."""
        values: dict[str, Any] = {
            "log_format": "console",
            "worker_session_timeout_seconds": TEST_SESSION_TIMEOUT,
        }
        settings = own_settings(
            base, folder, "test", partitions=TEST_PARTITIONS, **{**values, **overrides}
        )
        settings.media_root.mkdir(parents=True, exist_ok=True)
        await ensure_topics(settings.kafka_bootstrap, settings.topics, settings.topic_partitions)
        stack = cls(
            settings,
            Worker(settings, folder, "decider"),
            Worker(settings, folder, "media"),
            TopicReader(settings, settings.topics.events),
            TopicReader(settings, settings.topics.dlq),
        )
        for worker in stack.workers:
            await worker.start()
        await stack.events.start()
        await stack.dlq.start()
        for worker in stack.workers:
            await worker.ready()
        return stack

    def output(self) -> str:
        return "\n".join(w.output()[-3000:] for w in self.workers)

    async def stop(self) -> int | None:
        """Stops both apps; the first non-zero exit status, else 0."""
        await self.events.stop()
        await self.dlq.stop()
        codes = [await worker.stop() for worker in self.workers]
        await delete_topics(self.settings.kafka_bootstrap, self.settings.topic_prefix)
        return next((c for c in codes if c != 0), 0)
