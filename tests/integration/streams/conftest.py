"""Fixtures of the worker tests: test media made once per session (tests/media.py), a worker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.streams.helpers import Stack
from tests.media import MediaLibrary
from wavestack.settings import Settings


@pytest.fixture(scope="session")
def sources(tmp_path_factory: pytest.TempPathFactory) -> MediaLibrary:
    return MediaLibrary(tmp_path_factory.mktemp("worker-sources"))


@pytest.fixture(scope="module")
async def stack(
    base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """One worker shared by a test module's tests, which must not stop or restart it.

    Tests that crash or reconfigure a worker start their own ``Stack`` instead.
    The worker must exit cleanly (0) at the end of the module.
    """
    running = await Stack.start(base_settings, tmp_path_factory.mktemp("worker"))
    yield running
    assert await running.stop() == 0, running.output()
