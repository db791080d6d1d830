"""What the secured listeners accept and refuse, and how a refusal reads to the operator."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable

import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError

from api.app import create_app
from api.auth.cli import issue_token_from_settings
from schemas.kafka_security import kafka_client_options
from tests.integration.security.broker import SecureBroker
from tests.processes import settings_env
from wavestack.settings import Settings

pytestmark = pytest.mark.slow

WRONG_PASSWORD = "not-the-scram-password-4711"


async def list_topics(options: dict[str, object]) -> list[str]:
    admin = AIOKafkaAdminClient(**options, request_timeout_ms=5000)
    try:
        await asyncio.wait_for(admin.start(), 20)
        topics: list[str] = await admin.list_topics()
        return topics
    finally:
        await admin.close()


def wavestack(command: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wavestack.cli", command],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_a_plaintext_client_is_refused_by_the_sasl_ssl_listener(
    secure_broker: SecureBroker, secure_settings: Callable[..., Settings]
) -> None:
    with pytest.raises(KafkaConnectionError):
        await list_topics(kafka_client_options(secure_broker.sasl_ssl_bootstrap))
    # TLS without SASL is refused there too; only the configured client gets in.
    tls_only = secure_settings(kafka_security_protocol="SSL")
    with pytest.raises(KafkaConnectionError):
        await list_topics(kafka_client_options(tls_only))
    assert isinstance(await list_topics(kafka_client_options(secure_settings())), list)


async def test_the_ssl_listener_serves_a_client_that_trusts_its_ca(
    secure_broker: SecureBroker, secure_settings: Callable[..., Settings]
) -> None:
    settings = secure_settings(
        kafka_bootstrap=secure_broker.ssl_bootstrap,
        kafka_security_protocol="SSL",
        kafka_sasl_username=None,
        kafka_sasl_password=None,
    )
    done = wavestack("topics", settings)
    assert done.returncode == 0, done.stderr
    assert set(settings.topics.all()) <= set(await list_topics(kafka_client_options(settings)))
    # Without the CA file the system store is used, which does not know our CA.
    untrusting = settings.model_copy(update={"kafka_ssl_cafile": None})
    refused = wavestack("topics", untrusting)
    assert refused.returncode == 1
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr
    with pytest.raises(KafkaConnectionError):
        await list_topics(kafka_client_options(secure_broker.ssl_bootstrap))


async def test_a_wrong_password_fails_with_one_clear_line_and_no_secret(
    secure_settings: Callable[..., Settings],
) -> None:
    done = wavestack("topics", secure_settings(kafka_sasl_password=WRONG_PASSWORD))
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "SaslAuthenticationFailed" in output
    assert "invalid credentials" in output
    assert "Traceback" not in output
    assert WRONG_PASSWORD not in output
    assert done.stderr.strip().splitlines()[-1].startswith("wavestack: KafkaConnectionError")


async def test_the_api_answers_503_when_kafka_refuses_its_credentials(
    secure_settings: Callable[..., Settings],
) -> None:
    settings = secure_settings(kafka_sasl_password=WRONG_PASSWORD)
    token = issue_token_from_settings(
        settings, org="org-a", sub="bot-1", scope="queue:write", ttl=600, kind="bot"
    )
    async with TestClient(TestServer(create_app(settings), host="127.0.0.1")) as client:
        resp = await client.post(
            "/v1/queue",
            json={"platform": "youtube", "title": "Refused"},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "sec-refused"},
        )
        body = await resp.text()
    assert resp.status == 503, body
    assert "Kafka is unreachable" in body
    assert WRONG_PASSWORD not in body
