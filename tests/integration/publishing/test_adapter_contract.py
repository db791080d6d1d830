"""One contract, every adapter: each runs against its local fake through the same days."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import structlog

from streams.publishing.adapters.base import (
    CannotKnow,
    ErrorClass,
    Failed,
    Published,
    PublishResult,
    ResendSafe,
)
from streams.publishing.adapters.youtube import PACIFIC, quota_reset
from tests.integration.publishing.harness import Harness, YouTubeHarness


class Checkpoints:
    def __init__(self) -> None:
        self.saved: list[Mapping[str, Any]] = []

    async def __call__(self, state: Mapping[str, Any]) -> None:
        self.saved.append(dict(state))

    @property
    def last(self) -> Mapping[str, Any] | None:
        return self.saved[-1] if self.saved else None


def failed(result: object) -> Failed:
    assert isinstance(result, Failed), result
    return result


async def test_success_gives_a_post_id(harness: Harness) -> None:
    result = await harness.adapter.publish(harness.request(), Checkpoints())
    assert isinstance(result, Published), result
    assert result.post_id
    assert harness.posts() == [result.post_id]


async def test_server_error_is_transient(harness: Harness) -> None:
    harness.server_error()
    result = failed(await harness.adapter.publish(harness.request(), Checkpoints()))
    assert result.error_class is ErrorClass.TRANSIENT
    assert result.status is not None and result.status >= 500
    assert harness.posts() == []


async def test_429_is_rate_limited_with_the_platforms_wait(harness: Harness) -> None:
    wait = harness.rate_limit()
    before = datetime.now(UTC)
    result = failed(await harness.adapter.publish(harness.request(), Checkpoints()))
    assert result.error_class is ErrorClass.RATE_LIMITED
    assert result.status == 429
    assert result.retry_at is not None
    # Epoch headers have whole seconds; allow for that and for the test's own time.
    expected = before + timedelta(seconds=wait)
    assert abs((result.retry_at - expected).total_seconds()) <= 2.0


async def test_revoked_credentials_fail_permanently_with_an_actionable_reason(
    harness: Harness,
) -> None:
    harness.revoke()
    result = failed(await harness.adapter.publish(harness.request(), Checkpoints()))
    assert result.error_class is ErrorClass.PERMANENT
    assert result.status == 401
    assert result.connection_broken
    assert harness.revoked_hint in result.summary
    assert harness.posts() == []


async def test_deleted_target_fails_permanently_and_breaks_the_connection(
    harness: Harness,
) -> None:
    harness.delete_target()
    result = failed(await harness.adapter.publish(harness.request(), Checkpoints()))
    assert result.error_class is ErrorClass.PERMANENT
    assert result.connection_broken
    assert harness.posts() == []


async def test_timeout_after_acceptance_is_unknown_then_reconciled(harness: Harness) -> None:
    checkpoints = Checkpoints()
    request = harness.request()
    harness.accept_then_stall()
    result = failed(await harness.adapter.publish(request, checkpoints))
    assert result.error_class is ErrorClass.UNKNOWN_OUTCOME
    assert len(harness.posts()) == 1  # the platform did take it
    # The publisher hands back what the adapter checkpointed, from the log.
    resumed = harness.request(
        session=checkpoints.last,
        item_id=request.item_id,
        attempt_id=request.attempt_id,
        title=request.title,
    )
    outcome = await harness.adapter.reconcile(resumed)
    if harness.after_stall == "found":
        assert outcome == Published(harness.posts()[0], getattr(outcome, "url", None))
    elif harness.after_stall == "resend":
        assert isinstance(outcome, ResendSafe)
        again = await harness.adapter.publish(resumed, Checkpoints())
        assert isinstance(again, Published)
        assert len(harness.posts()) == 1  # the receiver deduped on webhook-id
    else:
        assert isinstance(outcome, CannotKnow)
        assert outcome.reason
    assert len(harness.posts()) == 1


async def test_no_credential_in_results_reprs_or_logs(
    harness: Harness, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    results: list[object] = []
    checkpoints = Checkpoints()
    with structlog.testing.capture_logs() as logged, caplog.at_level(logging.DEBUG):
        logging.getLogger().setLevel(logging.DEBUG)
        for scenario in (
            None,
            harness.server_error,
            harness.rate_limit,
            harness.accept_then_stall,
            harness.revoke,
        ):
            if scenario is not None:
                scenario()
            request = harness.request()
            result: PublishResult = await harness.adapter.publish(request, checkpoints)
            results += [request, result, await harness.adapter.reconcile(request)]
    printed = capsys.readouterr()
    haystack = "\n".join(
        [repr(r) for r in results]
        + [repr(e) for e in logged]
        + [r.getMessage() for r in caplog.records]
        + [printed.out, printed.err]
    )
    assert any(isinstance(r, Failed) for r in results)  # the scenarios did fail
    assert any(e["event"] == "platform.answer" for e in logged)  # and were logged
    for secret in harness.secrets():
        assert secret not in haystack


# Only YouTube has a quota that the platform reports as such; the others rate-limit.
@pytest.mark.parametrize("harness", ["youtube"], indirect=True)
async def test_exhausted_quota_reschedules_to_the_reset(harness: Harness) -> None:
    assert isinstance(harness, YouTubeHarness)
    harness.youtube.quota_left = 0
    now = datetime.now(UTC)
    result = failed(await harness.adapter.publish(harness.request(), Checkpoints()))
    assert result.error_class is ErrorClass.QUOTA
    assert result.status == 403
    assert result.retry_at == quota_reset(now)
    assert result.retry_at.astimezone(PACIFIC).time() == time(0)
    assert timedelta(0) < result.retry_at - now <= timedelta(hours=24)
    assert harness.posts() == []
