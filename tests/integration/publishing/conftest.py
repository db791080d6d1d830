"""Fixtures of the adapter tests: one shared session, one harness (fake + adapter) per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from streams.publishing.adapters.http import create_session
from tests.integration.publishing.harness import HARNESSES, TEST_TIMEOUT, Harness
from tests.integration.publishing.pipeline import Pipeline
from wavestack.settings import Settings


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    # Fakes listen on 127.0.0.1 over http: the egress rules are lifted, as in `make dev`.
    async with create_session(allow_private=True, timeout=TEST_TIMEOUT) as shared:
        yield shared


@pytest.fixture(params=sorted(HARNESSES))
async def harness(
    request: pytest.FixtureRequest, session: aiohttp.ClientSession, tmp_path: Path
) -> AsyncIterator[Harness]:
    made = HARNESSES[request.param](session, tmp_path)
    await made.start()
    yield made
    await made.fake.stop()


@pytest.fixture
async def pipeline(base_settings: Settings, tmp_path: Path) -> AsyncIterator[Pipeline]:
    """A decider and one publisher on their own topics; both must stop cleanly."""
    running = await Pipeline.start(base_settings, tmp_path)
    yield running
    assert await running.stop() == 0, running.output()
