"""A broker that requires TLS and SCRAM for this package's tests, and settings that use it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.security.broker import MECHANISM, SecureBroker, new_secure_broker
from tests.isolation import own_settings
from wavestack.settings import Settings


@pytest.fixture(scope="session")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    """One per test run, started when a test first asks for it (about 7 s)."""
    broker = new_secure_broker(tmp_path_factory.mktemp("secure-broker"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def secure_settings(
    secure_broker: SecureBroker, base_settings: Settings, tmp_path: Path
) -> Callable[..., Settings]:
    """Settings for the SASL_SSL listener; ``overrides`` change any of them."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "kafka_bootstrap": secure_broker.sasl_ssl_bootstrap,
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": MECHANISM,
            "kafka_sasl_username": secure_broker.username,
            "kafka_sasl_password": secure_broker.password,
            "kafka_ssl_cafile": secure_broker.tls.cafile,
            "worker_session_timeout_seconds": 6.0,
            "log_format": "console",
        }
        values.update(overrides)
        return own_settings(base_settings, tmp_path, "sec", partitions=2, **values)

    return make
