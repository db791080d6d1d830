"""The SDK against the real stack: every command and read, outcomes and pagination."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from client import (
    BadRequest,
    CommandRejected,
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    OutcomeTimeout,
    RateLimited,
    RetryPolicy,
    Unauthorized,
    ValidationFailed,
    WaveStack,
)
from tests.integration.client.stack import SECRET, SdkStack, eventually
from tests.media import make_video

LATER = datetime.now(UTC) + timedelta(days=30)


async def test_an_item_is_queued_rescheduled_cancelled_and_audited(sdk_stack: SdkStack) -> None:
    async with sdk_stack.client() as ws:
        project = await ws.create_project("launch")
        assert (await ws.wait_for_outcome(project, timeout=30)).outcome == "applied"
        assert (await ws.project(project.id)).name == "launch"
        assert project.id in [p.id async for p in ws.projects()]

        queued = await ws.enqueue(
            "youtube", "Launch video", schedule_at=LATER, project_id=project.id
        )
        assert queued.location == f"/v1/queue/{queued.id}"
        outcome = await ws.wait_for_outcome(queued.command_id, timeout=30)
        assert outcome.ok and outcome.aggregate_id == queued.id
        item = await ws.item(queued.id)
        assert (item.status, item.title, item.project_id) == (
            "scheduled",
            "Launch video",
            project.id,
        )
        assert [i.id async for i in ws.items(project_id=project.id)] == [queued.id]

        later = LATER + timedelta(hours=2)
        await ws.wait_for_outcome(await ws.reschedule(queued.id, later), timeout=30, check=True)
        assert (await ws.item(queued.id)).schedule_at == later
        await ws.wait_for_outcome(await ws.cancel(queued.id, reason="no"), timeout=30, check=True)
        assert (await ws.item(queued.id)).status == "cancelled"
        assert (await ws.command(queued.command_id)).outcome == "applied"

        events = [e.type async for e in ws.audit(aggregate_id=queued.id)]
    assert events == ["queue.ItemEnqueued", "queue.ItemRescheduled", "queue.ItemCancelled"]


async def test_lists_iterate_over_more_than_one_page(sdk_stack: SdkStack) -> None:
    async with sdk_stack.client(org="org-pages") as ws:
        made = [await ws.create_project(f"p{n}") for n in range(5)]
        for accepted in made:
            await ws.wait_for_outcome(accepted, timeout=30, check=True)
        pages = [page async for page in ws.projects(page_size=2).pages()]
        every = [p.id async for p in ws.projects(page_size=2)]
        first_three = await ws.projects(page_size=2).collect(limit=3)
    assert [len(p.items) for p in pages] == [2, 2, 1]
    assert sorted(every) == sorted(a.id for a in made) and len(set(every)) == 5
    assert [p.id for p in first_three] == every[:3]


async def test_a_given_key_answers_the_same_ids_again(sdk_stack: SdkStack) -> None:
    async with sdk_stack.client() as ws:
        first = await ws.enqueue("x", "same", idempotency_key="sdk-same-1")
        again = await ws.enqueue("x", "same", idempotency_key="sdk-same-1")
        fresh = await ws.enqueue("x", "same")  # a generated key: another item
    assert (again.id, again.command_id) == (first.id, first.command_id)
    assert fresh.id != first.id


async def test_retry_of_a_scheduled_item_is_rejected_by_the_decider(sdk_stack: SdkStack) -> None:
    async with sdk_stack.client() as ws:
        queued = await ws.enqueue("x", "not failed", schedule_at=LATER)
        await ws.wait_for_outcome(queued, timeout=30, check=True)
        with pytest.raises(CommandRejected) as caught:
            await ws.wait_for_outcome(await ws.retry(queued.id), timeout=30, check=True)
    assert caught.value.outcome.status == 409


async def test_wait_for_outcome_gives_up_after_its_timeout(sdk_stack: SdkStack) -> None:
    async with sdk_stack.client() as ws:
        with pytest.raises(OutcomeTimeout):
            await ws.wait_for_outcome(uuid.uuid4(), timeout=0.5)


async def test_a_post_is_published_on_a_connection_and_a_failed_item_retried(
    sdk_stack: SdkStack,
) -> None:
    async with sdk_stack.client() as ws:
        good = await ws.create_connection(
            "webhook", "hook", {"url": sdk_stack.receiver.url("sdk"), "secret": SECRET}
        )
        wrong = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
        bad = await ws.create_connection(
            "webhook", "bad", {"url": sdk_stack.receiver.url("bad"), "secret": wrong}
        )
        for accepted in (good, bad):
            await ws.wait_for_outcome(accepted, timeout=30, check=True)
        assert (await ws.connection(good.id)).status == "active"
        assert {good.id, bad.id} <= {c.id async for c in ws.connections(platform="webhook")}

        sent = await ws.enqueue("webhook", "hello", connection_id=good.id)
        published = await eventually(
            lambda: ws.item(sent.id),
            lambda i: i.status in ("published", "failed", "unconfirmed"),
            timeout=120,
        )
        assert published.status == "published", published
        assert published.post is not None
        assert (await ws.post(published.post.id)).queue_item_id == sent.id
        assert sent.id in [p.queue_item_id async for p in ws.posts(platform="webhook")]

        failing = await ws.enqueue("webhook", "refused", connection_id=bad.id)
        failed = await eventually(lambda: ws.item(failing.id), lambda i: i.status == "failed")
        retried = await ws.retry(failing.id)
        assert (await ws.wait_for_outcome(retried, timeout=30)).outcome == "applied"
        again = await eventually(
            lambda: ws.item(failing.id),
            lambda i: len(i.attempt_history) > len(failed.attempt_history),
        )
        assert again.attempts > failed.attempts

        await ws.wait_for_outcome(await ws.delete_connection(bad.id), timeout=30, check=True)
        gone = await eventually(lambda: ws.connection(bad.id), lambda c: c.status == "deleted")
    assert gone.deleted_at is not None


async def test_a_registered_asset_is_clipped(sdk_stack: SdkStack) -> None:
    make_video(sdk_stack.media("org-a") / "sdk-source.mp4", seconds=3.0)
    async with sdk_stack.client() as ws:
        asset = await ws.register_asset("sdk-source.mp4", title="source")
        await ws.wait_for_outcome(asset, timeout=30, check=True)
        await eventually(lambda: ws.asset(asset.id), lambda a: a.status == "registered")
        clip = await ws.request_clip(asset_id=asset.id, start=0.5, duration=1.0, title="cut")
        done = await eventually(
            lambda: ws.clip(clip.id), lambda c: c.status in ("succeeded", "failed"), timeout=120
        )
        assert done.status == "succeeded", done
        assert clip.id in [c.id async for c in ws.clips(status="succeeded")]
        assets = {a.id async for a in ws.assets(kind="video")}
        usage = await ws.usage()
    assert {asset.id, done.output_asset_id} <= assets
    assert usage.assets >= 2 and usage.clips >= 1


async def test_token_provider_is_asked_again_after_a_401(sdk_stack: SdkStack) -> None:
    tokens = ["not-a-jwt", sdk_stack.token()]

    async def provider() -> str:
        return tokens.pop(0)

    async with WaveStack(sdk_stack.base_url, token_provider=provider) as ws:
        accepted = await ws.create_project("from a provider")
    assert tokens == [] and accepted.status == "accepted"


async def test_a_429_is_retried_after_retry_after_with_the_same_key(sdk_stack: SdkStack) -> None:
    # An API process whose organizations may send one command per second, burst one.
    base = await sdk_stack.api(rate_limit_per_second=1.0, rate_limit_burst=1)
    sent: list[tuple[str, str]] = []
    answers: list[int] = []
    trace = aiohttp.TraceConfig()

    async def started(_s: Any, _c: Any, params: aiohttp.TraceRequestStartParams) -> None:
        sent.append((params.method, params.headers.get("Idempotency-Key", "")))

    async def ended(_s: Any, _c: Any, params: aiohttp.TraceRequestEndParams) -> None:
        answers.append(params.response.status)

    trace.on_request_start.append(started)
    trace.on_request_end.append(ended)
    async with (
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        WaveStack(base, token=sdk_stack.token(org="org-limited"), session=session) as ws,
    ):
        first = await ws.create_project("one")
        began = asyncio.get_running_loop().time()
        second = await ws.create_project("two")
        waited = asyncio.get_running_loop().time() - began
        assert (await ws.wait_for_outcome(second, timeout=30)).outcome == "applied"
    assert first.id != second.id
    assert answers[:3] == [202, 429, 202]
    assert sent[1] == sent[2] and sent[1][1] != ""  # the retry carried the same key
    assert waited >= 0.9  # Retry-After (1 s) was honoured, not hammered


async def test_without_retries_left_a_429_raises_rate_limited(sdk_stack: SdkStack) -> None:
    base = await sdk_stack.api(rate_limit_per_second=0.2, rate_limit_burst=1)
    token = sdk_stack.token(org="org-impatient")
    async with WaveStack(base, token=token, retry=RetryPolicy(attempts=1)) as ws:
        await ws.create_project("one")
        with pytest.raises(RateLimited) as caught:
            await ws.create_project("two")
    assert caught.value.status == 429 and (caught.value.retry_after or 0) >= 1


async def test_problems_are_raised_as_typed_errors(sdk_stack: SdkStack) -> None:
    async with sdk_stack.client() as ws:
        with pytest.raises(NotFound):
            await ws.item(uuid.uuid4())
        with pytest.raises(ValidationFailed) as invalid:
            await ws.register_asset("no/such/file.mp4")
        assert invalid.value.errors[0].loc == ("body", "path")
        with pytest.raises(ValidationFailed) as local:
            await ws.enqueue("x", "")  # caught before sending, same shape
        assert local.value.errors[0].loc == ("body", "title")
        with pytest.raises(BadRequest):
            await ws.create_project("p", idempotency_key="has a space")
        cancelled = await ws.enqueue("x", "to cancel", schedule_at=LATER)
        await ws.wait_for_outcome(cancelled, timeout=30, check=True)
        await ws.wait_for_outcome(await ws.cancel(cancelled.id), timeout=30, check=True)
        with pytest.raises(Conflict) as conflict:
            await ws.reschedule(cancelled.id, LATER)
        assert conflict.value.problem["item_status"] == "cancelled"
        await ws.create_project("first", idempotency_key="sdk-reused")
        with pytest.raises(IdempotencyKeyReused):
            await ws.create_project("second", idempotency_key="sdk-reused")
    async with sdk_stack.client(scope="read") as reader:
        with pytest.raises(Forbidden):
            await reader.enqueue("x", "not allowed")
    async with WaveStack(sdk_stack.base_url, token="not-a-jwt") as stranger:
        with pytest.raises(Unauthorized) as unauthorized:
            await stranger.projects().collect()
    assert unauthorized.value.kind == "unauthorized"
