"""The attempt runner's choices, with an in-memory table and a recording adapter.

No Kafka and no HTTP: the runner's sends and flushes are recorded, and the adapter
only counts what it was asked. The processes are tested in
tests/integration/publishing/test_publisher_*.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.codec import wrap
from schemas.envelope import Actor, Envelope
from schemas.events import ItemEnqueued
from schemas.publishing import PublishStarted
from streams.domain.queue import evolve
from streams.publishing.adapters.backoff import Backoff
from streams.publishing.adapters.base import (
    Adapter,
    Answer,
    CannotKnow,
    Checkpoint,
    ErrorClass,
    Failed,
    Published,
    PublishRequest,
    PublishResult,
    ReconcileResult,
    ResendSafe,
)
from streams.publishing.attempt import AttemptPolicy, AttemptRunner
from streams.publishing.connections import Connections, Opened, Unusable
from streams.publishing.tracking import Tracked, Tracker
from vault.keyring import KeyRing, generate_entry

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ITEM = uuid.uuid4()
ACTOR = Actor(sub="t", kind="service")


class RecordingAdapter(Adapter):
    platform = "webhook"

    def __init__(self, found: ReconcileResult | None = None) -> None:
        self.published: list[str] = []
        self.reconciled: list[str] = []
        self.found = found or ResendSafe("dedupes")

    async def publish(self, request: PublishRequest, checkpoint: Checkpoint) -> PublishResult:
        self.published.append(request.attempt_id)
        return Published(post_id=request.attempt_id)

    async def reconcile(self, request: PublishRequest) -> ReconcileResult:
        self.reconciled.append(request.attempt_id)
        return self.found

    def classify(self, answer: Answer, now: datetime) -> Failed:
        return Failed(ErrorClass.TRANSIENT, answer.status, "x")


class OpenConnections(Connections):
    def __init__(self) -> None:
        super().__init__(None, "s", KeyRing.parse(generate_entry("k")))

    async def open(self, connection_id: uuid.UUID, org_id: str, platform: str) -> Opened | Unusable:
        return Opened({"url": "https://example.test/hook", "secret": "whsec_x"})


def envelope(message: Any, sequence: int, occurred_at: datetime) -> Envelope:
    event_id = uuid.uuid4()
    return wrap(
        message,
        id=event_id,
        org_id="org",
        aggregate_id=ITEM,
        sequence=sequence,
        occurred_at=occurred_at,
        command_id=event_id,
        correlation_id=event_id,
        causation_id=event_id,
        actor=ACTOR,
    )


def started_item(**marks: Any) -> tuple[Tracked, PublishStarted]:
    enqueued = ItemEnqueued(
        platform="webhook",
        title="t",
        description="",
        project_id=None,
        asset_id=None,
        schedule_at=NOW,
        timezone="UTC",
        target={},
        connection_id=uuid.uuid4(),
    )
    started = PublishStarted(attempt=1, attempt_id="att_1", adapter="webhook", fingerprint="f")
    state = evolve(evolve(None, enqueued), started)
    tracked = Tracked.enqueued(envelope(enqueued, 1, NOW), enqueued, state)
    return tracked.model_copy(update={"sequence": 2, **marks}), started


class Run:
    def __init__(
        self, adapter: RecordingAdapter, now: datetime = NOW, max_attempts: int = 10
    ) -> None:
        self.sent: list[Envelope] = []
        self.flushes = 0
        self.items: dict[str, bytes] = {}
        self.adapter = adapter
        backoff = Backoff(base_seconds=1.0, max_attempts=max_attempts)
        policy = AttemptPolicy(backoff, timedelta(minutes=15))
        self.runner = AttemptRunner(
            Tracker(self.items, {}),
            {"webhook": adapter},
            OpenConnections(),
            policy,
            self.send,
            self.flush,
            lambda: now,
        )

    async def send(self, envelopes: list[Envelope], bound: Any) -> None:
        self.sent.extend(envelopes)

    async def flush(self) -> None:
        self.flushes += 1

    async def start(self, tracked: Tracked, event: PublishStarted, at: datetime = NOW) -> None:
        import structlog

        await self.runner.run(
            str(ITEM), envelope(event, 2, at), event, tracked, structlog.get_logger()
        )

    def types(self) -> list[str]:
        return [e.type for e in self.sent]

    def mark(self) -> Mapping[str, Any]:
        return Tracked.model_validate_json(self.items[str(ITEM)]).model_dump()


async def test_a_fresh_start_flushes_its_calling_mark_then_calls_once_and_reports() -> None:
    run = Run(RecordingAdapter())
    tracked, started = started_item()
    await run.start(tracked, started)
    assert run.adapter.published == ["att_1"]
    assert run.flushes == 1
    assert run.types() == ["queue.CompletePublish"]
    assert (run.mark()["calling"], run.mark()["reported"]) == (None, 1)


async def test_a_start_from_a_replayed_log_calls_no_platform() -> None:
    run = Run(RecordingAdapter(), now=NOW + timedelta(days=30))
    tracked, started = started_item()
    await run.start(tracked, started, at=NOW)
    assert run.adapter.published == [] and run.adapter.reconciled == []
    [report] = run.sent
    assert report.type == "queue.FailPublishAttempt"
    assert report.data["summary"].startswith("not sent")


async def test_a_start_already_reported_is_skipped() -> None:
    run = Run(RecordingAdapter())
    tracked, started = started_item(reported=1)
    await run.start(tracked, started)
    assert (run.adapter.published, run.sent) == ([], [])


async def test_a_call_cut_off_by_a_crash_is_reconciled_and_resent_under_the_same_id() -> None:
    run = Run(RecordingAdapter(ResendSafe("dedupes")))
    tracked, started = started_item(calling="att_1")
    await run.start(tracked, started)
    assert run.adapter.reconciled == ["att_1"]
    assert run.adapter.published == ["att_1"]
    assert run.types() == ["queue.RecordReconciliation", "queue.CompletePublish"]


async def test_when_the_platform_cannot_know_nothing_is_sent_again() -> None:
    run = Run(RecordingAdapter(CannotKnow("no lookup")))
    tracked, started = started_item(calling="att_1")
    await run.start(tracked, started)
    assert run.adapter.published == []
    [report] = run.sent
    assert (report.type, report.data["finding"]) == ("queue.RecordReconciliation", "cannot-know")


async def test_a_post_found_by_reconciliation_completes_without_a_call() -> None:
    run = Run(RecordingAdapter(Published(post_id="p9")))
    tracked, started = started_item(calling="att_1")
    await run.start(tracked, started)
    assert run.adapter.published == []
    [report] = run.sent
    assert report.type == "queue.CompletePublish"
    assert (report.data["reconciled_attempt_id"], report.data["post_id"]) == ("att_1", "p9")


class LookupFails(RecordingAdapter):
    async def reconcile(self, request: PublishRequest) -> ReconcileResult:
        self.reconciled.append(request.attempt_id)
        return Failed(ErrorClass.TRANSIENT, 503, "lookup unavailable")


async def test_a_failing_lookup_is_retried_until_the_attempt_limit_then_left_to_people() -> None:
    early = Run(LookupFails(), max_attempts=3)
    tracked, started = started_item(calling="att_1")
    await early.start(tracked, started)
    [report] = early.sent
    assert report.data["error_class"] == "unknown-outcome"
    assert report.data["next_attempt_at"] is not None  # looks again later

    last = Run(LookupFails(), max_attempts=3)
    tracked, started = started_item(calling="att_1")
    used_up = tracked.state.model_copy(update={"failures": 2})
    await last.start(tracked.model_copy(update={"state": used_up}), started)
    [report] = last.sent
    assert (report.data["error_class"], report.data["next_attempt_at"]) == ("unknown-outcome", None)
    assert last.adapter.published == []  # never a blind re-post


class Crashes(RecordingAdapter):
    def __init__(self, before_call: bool) -> None:
        super().__init__()
        self.before_call = before_call

    async def reconcile(self, request: PublishRequest) -> ReconcileResult:
        raise RuntimeError("a bug in the lookup")

    async def publish(self, request: PublishRequest, checkpoint: Checkpoint) -> PublishResult:
        self.published.append(request.attempt_id)
        raise KeyError("a bug after the request went out")


async def test_a_bug_during_the_call_is_reported_as_an_unknown_outcome() -> None:
    run = Run(Crashes(before_call=False))
    tracked, started = started_item()
    await run.start(tracked, started)
    assert run.adapter.published == ["att_1"]
    [report] = run.sent
    assert report.type == "queue.FailPublishAttempt"
    assert report.data["error_class"] == "unknown-outcome"
    assert "internal error" in report.data["summary"] and report.data["next_attempt_at"]
    assert run.mark()["reported"] == 1


async def test_a_bug_before_any_call_is_retried_and_the_earlier_doubt_is_kept() -> None:
    run = Run(Crashes(before_call=True))
    tracked, started = started_item(calling="att_0")  # a doubt from an earlier crash
    await run.start(tracked, started)
    assert run.adapter.published == []
    [report] = run.sent
    assert (report.data["error_class"], report.data["attempt_id"]) == ("transient", "att_1")
    assert run.mark()["calling"] == "att_0"  # the next attempt still reconciles it first
