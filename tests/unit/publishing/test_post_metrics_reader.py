"""The reader's choices, with an in-memory table, a scripted adapter and recorded commands.

No Kafka and no HTTP; the processes are tested in
tests/integration/publishing/test_post_metrics_flow.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.catalog import Topics
from schemas.publishing import RecordPostMetrics
from streams.publishing.adapters.base import (
    Adapter,
    Answer,
    Checkpoint,
    ErrorClass,
    Failed,
    Metrics,
    MetricsResult,
    NotAvailable,
    PostRef,
    PublishRequest,
    PublishResult,
    ReconcileResult,
)
from streams.publishing.connections import Connections, Opened, Unusable
from streams.publishing.metrics_reader import MetricsReader, round_command_id
from streams.publishing.metrics_schedule import ReadSchedule
from streams.publishing.metrics_tracking import Reading, Reads
from vault.keyring import KeyRing, generate_entry

PUBLISHED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SCHEDULE = ReadSchedule()
FIRST_READ = PUBLISHED + SCHEDULE.early_interval


class ScriptedAdapter(Adapter):
    platform = "x"
    reads_metrics = True

    def __init__(self, *answers: MetricsResult) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    async def metrics(self, post: PostRef, credentials: Mapping[str, str]) -> MetricsResult:
        self.asked.append(post.post_id)
        return self.answers.pop(0)

    async def publish(self, request: PublishRequest, checkpoint: Checkpoint) -> PublishResult:
        raise AssertionError("a read never publishes")

    async def reconcile(self, request: PublishRequest) -> ReconcileResult:
        raise AssertionError("a read never reconciles")

    def classify(self, answer: Answer, now: datetime) -> Failed:
        return Failed(ErrorClass.PERMANENT, answer.status, "no")


class OpenConnections(Connections):
    def __init__(self, usable: bool = True) -> None:
        super().__init__(None, "s", KeyRing.parse(generate_entry("t")))
        self.usable = usable

    async def open(self, connection_id: uuid.UUID, org_id: str, platform: str) -> Opened | Unusable:
        return Opened({"access_token": "t"}) if self.usable else Unusable("deleted")


class Recording(MetricsReader):
    def __init__(self, adapter: Adapter, clock: list[datetime], usable: bool = True) -> None:
        self.table: dict[str, bytes] = {}
        super().__init__(
            None,  # type: ignore[arg-type]  # nothing produced: record() is replaced below
            Topics("t"),
            Reads(self.table),
            {"x": adapter},
            OpenConnections(usable),
            SCHEDULE,
            lambda: clock[0],
            concurrency=4,
        )
        self.recorded: list[RecordPostMetrics] = []

    async def record(
        self, key: str, reading: Reading, command: RecordPostMetrics, bound: Any
    ) -> None:
        self.recorded.append(command)
        self.sent[key] = (command.round, time.monotonic())

    async def settle(self) -> None:
        await self.tick()
        await asyncio.gather(*self.running.values())


def entry(reader: Recording, round_: int = 0, read_at: datetime | None = None) -> str:
    key = str(uuid.uuid4())
    reading = Reading(
        org_id="org-a",
        correlation_id=uuid.uuid4(),
        platform="x",
        connection_id=uuid.uuid4(),
        post_id="123",
        published_at=PUBLISHED,
        round=round_,
        read_at=read_at,
        sequence=3,
    )
    reader.reads.table[key] = reading.model_dump_json().encode()
    return key


async def test_a_due_post_is_read_once_and_recorded_as_the_next_round() -> None:
    adapter = ScriptedAdapter(Metrics(views=5, likes=1))
    reader = Recording(adapter, [FIRST_READ])
    entry(reader)
    await reader.settle()
    await reader.settle()  # the round is on its way: not read again
    assert adapter.asked == ["123"]
    [command] = reader.recorded
    assert (command.round, command.views, command.likes, command.gone) == (1, 5, 1, False)


async def test_a_post_not_due_yet_is_not_read() -> None:
    adapter = ScriptedAdapter()
    reader = Recording(adapter, [FIRST_READ - timedelta(seconds=1)])
    entry(reader)
    await reader.settle()
    assert adapter.asked == [] and reader.recorded == []


async def test_a_rate_limited_read_waits_for_the_platforms_reset() -> None:
    clock = [FIRST_READ]
    reset = FIRST_READ + timedelta(minutes=5)
    adapter = ScriptedAdapter(
        Failed(ErrorClass.RATE_LIMITED, 429, "X rate limit", retry_at=reset), Metrics(views=1)
    )
    reader = Recording(adapter, clock)
    entry(reader)
    await reader.settle()
    clock[0] = reset - timedelta(seconds=1)
    await reader.settle()
    assert adapter.asked == ["123"] and reader.recorded == []
    clock[0] = reset
    await reader.settle()
    assert len(adapter.asked) == 2 and [c.round for c in reader.recorded] == [1]


async def test_a_gone_post_is_recorded_as_gone() -> None:
    adapter = ScriptedAdapter(NotAvailable("deleted", gone=True))
    reader = Recording(adapter, [FIRST_READ + timedelta(hours=2)])
    entry(reader, round_=3, read_at=FIRST_READ + timedelta(hours=1))
    await reader.settle()
    [command] = reader.recorded
    assert (command.round, command.gone, command.views) == (4, True, None)


async def test_a_deleted_connection_puts_the_read_off_without_asking_the_platform() -> None:
    adapter = ScriptedAdapter()
    reader = Recording(adapter, [FIRST_READ], usable=False)
    key = entry(reader)
    await reader.settle()
    assert adapter.asked == [] and reader.recorded == []
    assert reader.deferred[key] == FIRST_READ + SCHEDULE.early_interval


def test_round_ids_are_the_same_for_a_round_and_differ_between_rounds() -> None:
    item = uuid.uuid4()
    assert round_command_id(item, 2) == round_command_id(item, 2)
    assert round_command_id(item, 2) != round_command_id(item, 3)
