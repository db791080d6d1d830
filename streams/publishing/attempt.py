"""One attempt: what the publisher does when it consumes ``PublishStarted(attempt n)``.

Only the consumer of that event calls the platform, and it calls at most once per
delivery of it: reconcile first when an earlier call's outcome is unknown (the
event names it, or this publisher's own ``calling`` mark survived a crash), mark
the call in the table and flush the changelog, call, report the result as a command
with a derived id, then mark the attempt reported. A crash anywhere before that
last mark redelivers the event, which finds the ``calling`` mark and reconciles:
never a blind re-post.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog
from aiokafka.errors import KafkaError

from schemas.base import Command
from schemas.envelope import Envelope
from schemas.ids import fingerprint
from schemas.publishing import (
    MAX_REASON_CHARS,
    MAX_SUMMARY_CHARS,
    CompletePublish,
    FailPublishAttempt,
    PublishStarted,
    RecordPublishCheckpoint,
    RecordReconciliation,
)
from streams.media.agent import command_for
from streams.publishing import ids
from streams.publishing.adapters.backoff import Backoff
from streams.publishing.adapters.base import (
    Adapter,
    CannotKnow,
    ErrorClass,
    Failed,
    NotPublished,
    Published,
    PublishRequest,
    ResendSafe,
)
from streams.publishing.connections import Connections, Unusable
from streams.publishing.tracking import Tracked, Tracker

log = structlog.get_logger("streams.publishing.attempt")

# Kafka, PostgreSQL or the network failing under an attempt: nothing about the item
# is wrong, so the attempt must run again, not be reported as failed.
OUTAGES = (KafkaError, asyncpg.PostgresError, OSError)

Send = Callable[[list[Envelope], Any], Any]


@dataclass(frozen=True)
class AttemptPolicy:
    backoff: Backoff
    # A start older than this is never acted on: the log is being replayed, or the
    # publisher was down that long (then the next attempt goes out, fresh).
    start_max_age: timedelta


class AttemptRunner:
    def __init__(
        self,
        tracker: Tracker,
        adapters: Mapping[str, Adapter],
        connections: Connections,
        policy: AttemptPolicy,
        send: Send,
        flush: Callable[[], Any],
        clock: Callable[[], datetime],
    ) -> None:
        self.tracker = tracker
        self.adapters = adapters
        self.connections = connections
        self.policy = policy
        self._send = send
        self._flush = flush
        self.clock = clock

    async def run(
        self, key: str, envelope: Envelope, event: PublishStarted, tracked: Tracked, bound: Any
    ) -> None:
        n = event.attempt
        state = tracked.state
        if tracked.reported >= n or state.status != "publishing" or state.attempt != n:
            bound.info("publish_start_skipped", attempt=n, status=state.status)
            return
        bound = bound.bind(item_id=key, attempt=n, platform=tracked.platform)
        attempt = _Attempt(self, key, envelope, event, tracked, bound)
        try:
            await attempt.run()
        except OUTAGES:
            raise  # not the item's fault: the attempt is redone after a restart
        except Exception as exc:
            bound.exception("publish_attempt_crashed")
            await attempt.crashed(exc)


class _Attempt:
    """The steps of one attempt, sharing its item, event and the latest table record."""

    def __init__(
        self,
        runner: AttemptRunner,
        key: str,
        envelope: Envelope,
        event: PublishStarted,
        tracked: Tracked,
        bound: Any,
    ) -> None:
        self.r = runner
        self.key = key
        self.item_id = uuid.UUID(key)
        self.envelope = envelope
        self.event = event
        self.n = event.attempt
        self.tracked = tracked
        self.bound = bound
        self.sending = event.attempt_id
        # How long the platform call took (None: no call was made), for the outcome's line.
        self.call_ms: float | None = None

    async def run(self) -> None:
        now = self.r.clock()
        age = now - self.envelope.occurred_at
        if self.tracked.calling is None and age > self.r.policy.start_max_age:
            # No call of ours began (the mark would say so): report it as not sent.
            await self.fail(
                Failed(ErrorClass.TRANSIENT, None, "not sent: the attempt's start is stale"),
                self.event.attempt_id,
                next_at=now,
            )
            return
        adapter = self.r.adapters.get(self.tracked.platform)
        if adapter is None:
            summary = f"publishing to {self.tracked.platform} is not supported yet"
            await self.fail(Failed(ErrorClass.PERMANENT, None, summary), self.event.attempt_id)
            return
        connection_id = self.tracked.state.connection_id
        assert connection_id is not None  # the decider starts no attempt without one
        opened = await self.r.connections.open(
            connection_id, self.tracked.org_id, self.tracked.platform
        )
        if isinstance(opened, Unusable):
            failed = Failed(ErrorClass.PERMANENT, None, opened.reason, connection_broken=True)
            await self.fail(failed, self.event.attempt_id)
            return
        request = PublishRequest(
            item_id=self.key,
            attempt_id=self.event.attempt_id,
            title=self.tracked.title,
            description=self.tracked.description,
            target=self.tracked.target,
            credentials=opened.credentials,
            session=self.tracked.state.session,
        )
        send_id = await self.reconcile_first(adapter, request)
        if send_id is None:
            return
        await self.publish(adapter, replace(request, attempt_id=send_id))

    async def reconcile_first(self, adapter: Adapter, request: PublishRequest) -> str | None:
        """The attempt id to send with, or None when nothing must be sent."""
        doubt = self.tracked.calling or self.event.reconcile_attempt_id
        if doubt is None:
            return self.event.attempt_id
        found = await adapter.reconcile(replace(request, attempt_id=doubt))
        self.bound.info("publish_reconciled", result=type(found).__name__)
        match found:
            case Published():
                await self.complete(found, reconciled=doubt)
                return None
            case NotPublished():
                await self.reconciliation(doubt, "not-published", "")
                return self.event.attempt_id
            case ResendSafe():
                # The platform dedupes on the id: send the doubtful attempt's id again.
                await self.reconciliation(doubt, "resend-safe", found.reason)
                return doubt
            case CannotKnow():
                await self.reconciliation(doubt, "cannot-know", found.reason)
                self.mark(calling=None, reported=self.n)
                return None
            case Failed():
                # The lookup failed: stay in doubt and look again at the next attempt.
                doubtful = Failed(ErrorClass.UNKNOWN_OUTCOME, found.status, found.summary)
                await self.fail(doubtful, doubt, next_at=self.look_again_at())
                return None
        raise AssertionError(f"unexpected reconcile result {found!r}")

    async def publish(self, adapter: Adapter, request: PublishRequest) -> None:
        self.sending = request.attempt_id
        self.mark(calling=request.attempt_id)
        # The mark is on the changelog before the platform hears anything.
        await self.r._flush()
        # One info line per attempt (its outcome, with the call's duration): at a
        # thousand posts a second a second line was a few per cent of the process.
        self.bound.debug("publish_calling")
        began = time.monotonic()
        result = await adapter.publish(request, self.checkpoint)
        self.call_ms = round((time.monotonic() - began) * 1000, 1)
        if isinstance(result, Published):
            await self.complete(result, reconciled=None)
            return
        next_at: datetime | None
        if result.error_class is ErrorClass.UNKNOWN_OUTCOME:
            # Never retried blindly: the next attempt reconciles this one first.
            next_at = self.look_again_at()
        else:
            failures = self.tracked.state.failures + 1
            now = self.r.clock()
            next_at = self.r.policy.backoff.next_attempt_at(result, failures, now, random.random)
        await self.fail(result, request.attempt_id, next_at=next_at)

    def look_again_at(self) -> datetime | None:
        """The next attempt for an outcome in doubt (it reconciles first), or None: the
        attempts are used up and the decider makes the item ``unconfirmed``."""
        failures = self.tracked.state.failures + 1
        return self.r.policy.backoff.reconcile_at(failures, self.r.clock(), random.random)

    async def crashed(self, error: BaseException) -> None:
        """A bug of ours stopped the attempt: report it, so the item does not stay
        ``publishing`` with nothing left to move it.

        If our call had begun (the mark is set), the post may be out: that is an
        unknown outcome, reconciled by the next attempt. Otherwise nothing was sent and
        the attempt is retried like a transient failure. Either way the attempt limit
        ends a bug that repeats.
        """
        summary = f"internal error in the publisher: {type(error).__name__}"
        latest = self.tracker.get(self.key) or self.tracked
        if latest.calling == self.sending:
            failed = Failed(ErrorClass.UNKNOWN_OUTCOME, None, summary)
            await self.fail(failed, self.sending, next_at=self.look_again_at())
            return
        failed = Failed(ErrorClass.TRANSIENT, None, summary)
        failures = self.tracked.state.failures + 1
        now = self.r.clock()
        next_at = self.r.policy.backoff.next_attempt_at(failed, failures, now, random.random)
        await self.fail(failed, self.sending, next_at=next_at)

    async def checkpoint(self, session: Mapping[str, Any]) -> None:
        state = dict(session)
        digest = fingerprint("session", state)[:16]
        command = RecordPublishCheckpoint(attempt=self.n, session=state)
        await self.report(command, f"checkpoint-{digest}")
        latest = self.tracker.get(self.key) or self.tracked
        with_session = latest.state.model_copy(update={"session": state})
        self.tracked = latest.model_copy(update={"state": with_session})
        self.tracker.put(self.key, self.tracked)

    @property
    def tracker(self) -> Tracker:
        return self.r.tracker

    async def complete(self, published: Published, *, reconciled: str | None) -> None:
        """``reconciled``: the doubtful attempt id whose lookup found the post, if any."""
        command = CompletePublish(
            attempt=self.n,
            post_id=published.post_id,
            url=published.url,
            reconciled=reconciled is not None,
            reconciled_attempt_id=reconciled,
        )
        await self.report(command, "complete" if reconciled is None else "found")
        self.mark(calling=None, reported=self.n)
        self.bound.info(
            "publish_succeeded",
            post_id=published.post_id,
            reconciled=bool(reconciled),
            call_ms=self.call_ms,
        )

    async def fail(self, failed: Failed, attempt_id: str, next_at: datetime | None = None) -> None:
        command = FailPublishAttempt(
            attempt=self.n,
            attempt_id=attempt_id,
            error_class=failed.error_class.value,
            platform_status=failed.status,
            summary=failed.summary[:MAX_SUMMARY_CHARS],
            next_attempt_at=next_at,
            reason=_reason(failed, self.n)[:MAX_REASON_CHARS] if next_at is None else "",
            connection_broken=failed.connection_broken,
        )
        await self.report(command, "fail")
        self.mark(calling=None, reported=self.n)
        self.bound.info(
            "publish_failed",
            error_class=failed.error_class.value,
            status=failed.status,
            next_attempt_at=next_at.isoformat() if next_at else None,
            call_ms=self.call_ms,
        )

    async def reconciliation(self, attempt_id: str, finding: Any, detail: str) -> None:
        command = RecordReconciliation(
            attempt=self.n,
            attempt_id=attempt_id,
            finding=finding,
            detail=detail[:MAX_SUMMARY_CHARS],
        )
        await self.report(command, "reconcile")

    async def report(self, command: Command, step: str) -> None:
        command_id = ids.command_id(self.item_id, self.n, step)
        envelope = command_for(self.envelope, command, command_id, self.item_id)
        await self.r._send([envelope], self.bound)

    def mark(self, *, calling: str | None, reported: int | None = None) -> None:
        """Updates only this attempt's marks on the latest record.

        Attempts run beside the agent, which may have folded newer events of the item
        meanwhile (the reports of this very attempt): those must not be overwritten.
        """
        latest = self.tracker.get(self.key) or self.tracked
        update: dict[str, Any] = {"calling": calling}
        if calling is None and latest.calling not in (None, self.sending):
            update.pop("calling")  # a later attempt's mark: not ours to clear
        if reported is not None:
            update["reported"] = max(latest.reported, reported)
        self.tracked = latest.model_copy(update=update)
        self.tracker.put(self.key, self.tracked)


def _reason(failed: Failed, attempt: int) -> str:
    """What the user reads on a failed item: what happened, then what to do."""
    if failed.connection_broken:
        return (
            f"{failed.summary}. Fix or reconnect the account (a new connection), "
            "then retry the item."
        )
    if failed.error_class is ErrorClass.PERMANENT:
        return f"{failed.summary}. Change what the item asks for, or its connection, and retry it."
    return (
        f"gave up after {attempt} attempts; the last: {failed.summary}. "
        "Retry the item once the platform works again."
    )
