"""Fixtures of the worker tests: test media made once per session (tests/media.py)."""

from __future__ import annotations

import pytest

from tests.media import MediaLibrary


@pytest.fixture(scope="session")
def sources(tmp_path_factory: pytest.TempPathFactory) -> MediaLibrary:
    return MediaLibrary(tmp_path_factory.mktemp("worker-sources"))
