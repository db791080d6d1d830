"""Webhook specifics: the delivery as a receiver sees it, and egress rules on its URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from streams.publishing.adapters.base import ErrorClass, Failed, Published
from streams.publishing.adapters.http import create_session
from streams.publishing.adapters.webhook import WebhookAdapter
from tests.fakes.base import Scripted
from tests.integration.publishing.harness import Harness, WebhookHarness, utc_now, whsec

pytestmark = pytest.mark.parametrize("harness", ["webhook"], indirect=True)


async def no_checkpoint(state: Mapping[str, Any]) -> None:
    raise AssertionError("webhooks have no resumable state to checkpoint")


def fake(harness: Harness) -> WebhookHarness:
    assert isinstance(harness, WebhookHarness)
    return harness


async def test_delivery_carries_the_item_and_the_attempt_id_as_webhook_id(
    harness: Harness,
) -> None:
    h = fake(harness)
    request = h.request(target={"channel": "news"})
    result = await h.adapter.publish(request, no_checkpoint)
    assert result == Published(request.attempt_id)
    (delivery,) = h.receiver.deliveries
    assert delivery.webhook_id == request.attempt_id
    assert delivery.payload["type"] == "wavestack.post"
    assert delivery.payload["data"]["item_id"] == request.item_id
    assert delivery.payload["data"]["target"] == {"channel": "news"}


async def test_a_new_attempt_id_is_a_new_delivery(harness: Harness) -> None:
    h = fake(harness)
    await h.adapter.publish(h.request(), no_checkpoint)
    await h.adapter.publish(h.request(), no_checkpoint)
    assert len(h.receiver.deliveries) == 2


async def test_a_private_url_is_refused_by_default(harness: Harness) -> None:
    h = fake(harness)
    async with create_session() as strict:
        adapter = WebhookAdapter(strict, utc_now)
        result = await adapter.publish(h.request(), no_checkpoint)
    assert isinstance(result, Failed) and result.error_class is ErrorClass.PERMANENT
    assert "egress refused" in result.summary
    assert h.receiver.attempts == 0


@pytest.mark.parametrize(
    "credentials",
    [{"url": "ftp://example.com/x", "secret": whsec()}, {"url": "", "secret": whsec()}],
)
async def test_unusable_urls_fail_permanently(
    harness: Harness, credentials: dict[str, str]
) -> None:
    result = await harness.adapter.publish(harness.request(credentials=credentials), no_checkpoint)
    assert isinstance(result, Failed) and result.error_class is ErrorClass.PERMANENT


async def test_an_unusable_secret_fails_permanently_before_sending(harness: Harness) -> None:
    h = fake(harness)
    bad = {"url": h.receiver.url(), "secret": "not-whsec"}
    result = await h.adapter.publish(h.request(credentials=bad), no_checkpoint)
    assert isinstance(result, Failed) and result.error_class is ErrorClass.PERMANENT
    assert "not-whsec" not in result.summary
    assert h.receiver.attempts == 0


async def test_a_redirect_is_not_followed(harness: Harness) -> None:
    h = fake(harness)
    h.fail(Scripted(307, None, {"Location": "http://169.254.169.254/latest"}))
    result = await h.adapter.publish(h.request(), no_checkpoint)
    assert isinstance(result, Failed) and result.error_class is ErrorClass.PERMANENT
    assert result.status == 307
