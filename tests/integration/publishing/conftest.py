"""Fixtures of the adapter tests: one shared session, one harness (fake + adapter) per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from streams.publishing.adapters.http import create_session
from tests.integration.publishing.harness import HARNESSES, TEST_TIMEOUT, Harness


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
