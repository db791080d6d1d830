"""Fixtures of the webhook tests: the API's (tokens, clients) and a running stack."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.api.conftest import bearer, client_factory, make_token  # noqa: F401
from tests.integration.webhooks.support import Receiver, Stack, start_children
from vault.keyring import KeyRing, generate_entry
from wavestack.settings import Settings

Headers = Callable[..., dict[str, str]]
SCOPES = "webhooks:write projects:write read"
# Short waits between attempts: a test sees the whole schedule in about a second.
TEST_SCHEDULE = [0.3, 0.3]


def stack_overrides(ring: str) -> dict[str, Any]:
    return {
        "secret_key": ring,
        "egress_allow_private": True,
        "webhook_retry_schedule_seconds": TEST_SCHEDULE,
        "webhook_poll_seconds": 0.1,
        "webhook_timeout_seconds": 5.0,
    }


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    fake = Receiver()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def stack(
    settings: Settings,
    tmp_path: Path,
    client_factory: Any,  # noqa: F811
) -> AsyncIterator[Stack]:
    """API, decider, projector and the delivery process on the test's topics and schema."""
    ring = generate_entry("k1")
    overrides = stack_overrides(ring)
    full = Settings(**{**settings.model_dump(), **overrides})
    children = await start_children(full, tmp_path)
    client = await client_factory(**overrides)
    running = Stack(full, client, children, KeyRing.parse(ring))
    await running.start_delivery()
    try:
        yield running
    finally:
        await running.stop()


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}
