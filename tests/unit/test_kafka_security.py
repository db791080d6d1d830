"""Kafka TLS and SASL settings: the options every client gets, and secrets kept secret."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from schemas.kafka_security import (
    KafkaConnection,
    KafkaSecurity,
    kafka_client_options,
    security_options,
)
from tests.integration.security.certs import make_broker_tls
from wavestack.settings import Settings

PASSWORD = "s3cret-scram-password"


@pytest.fixture
def cafile(tmp_path: Path) -> Path:
    return make_broker_tls(tmp_path, "keystore-pass").cafile


def sasl_ssl(cafile: Path | None) -> KafkaSecurity:
    return KafkaSecurity(
        protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="wavestack",
        sasl_password=SecretStr(PASSWORD),
        ssl_cafile=cafile,
    )


def test_the_default_is_plaintext_with_nothing_but_the_bootstrap() -> None:
    assert kafka_client_options("127.0.0.1:19092") == {
        "bootstrap_servers": "127.0.0.1:19092",
        "security_protocol": "PLAINTEXT",
    }
    assert kafka_client_options(Settings(kafka_bootstrap="k1:9092,k2:9092")) == {
        "bootstrap_servers": "k1:9092,k2:9092",
        "security_protocol": "PLAINTEXT",
    }


def test_sasl_ssl_gives_scram_credentials_and_a_verifying_context(cafile: Path) -> None:
    options = kafka_client_options(KafkaConnection(bootstrap="b:9093", security=sasl_ssl(cafile)))
    context = options.pop("ssl_context")
    assert options == {
        "bootstrap_servers": "b:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "wavestack",
        "sasl_plain_password": PASSWORD,
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    # The given CA, and only it: no system CAs were added beside it.
    assert [c["subject"] for c in context.get_ca_certs()] == [
        ((("commonName", "wavestack test CA"),),)
    ]


def test_ssl_alone_has_a_context_and_no_sasl(cafile: Path) -> None:
    options = security_options(KafkaSecurity(protocol="SSL", ssl_cafile=cafile))
    assert options["security_protocol"] == "SSL"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert not any(key.startswith("sasl") for key in options)


def test_ssl_without_a_cafile_trusts_the_system_store() -> None:
    # A managed cluster with a public certificate needs no CA file.
    context = security_options(KafkaSecurity(protocol="SSL"))["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.cert_store_stats()["x509_ca"] > 0


def test_sasl_plaintext_has_credentials_and_no_context() -> None:
    options = security_options(
        KafkaSecurity(
            protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-256",
            sasl_username="u",
            sasl_password=SecretStr(PASSWORD),
        )
    )
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert "ssl_context" not in options


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SASL_PLAINTEXT"])
def test_sasl_without_credentials_is_refused_at_settings_load(protocol: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(kafka_security_protocol=protocol, kafka_sasl_username="only-a-name")
    assert "WAVESTACK_KAFKA_SASL_USERNAME and WAVESTACK_KAFKA_SASL_PASSWORD" in str(caught.value)


def test_a_missing_cafile_is_refused_at_settings_load(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="kafka_ssl_cafile"):
        Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=tmp_path / "absent.pem")


def test_settings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, cafile: Path
) -> None:
    monkeypatch.setenv("WAVESTACK_KAFKA_BOOTSTRAP", "broker:9096")
    monkeypatch.setenv("WAVESTACK_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("WAVESTACK_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("WAVESTACK_KAFKA_SASL_USERNAME", "svc-wavestack")
    monkeypatch.setenv("WAVESTACK_KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("WAVESTACK_KAFKA_SSL_CAFILE", str(cafile))
    kafka = Settings().kafka
    assert kafka.bootstrap == "broker:9096"
    assert kafka.security.protocol == "SASL_SSL"
    assert kafka.security.sasl_mechanism == "SCRAM-SHA-256"
    assert kafka.security.sasl_username == "svc-wavestack"
    assert kafka.security.ssl_cafile == cafile


def test_the_password_is_in_no_repr_and_no_validation_error(cafile: Path) -> None:
    settings = Settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="u",
        kafka_sasl_password=PASSWORD,
        kafka_ssl_cafile=cafile,
    )
    shown = [repr(settings), str(settings), repr(settings.kafka), str(settings.model_dump())]
    assert all(PASSWORD not in text for text in shown)
    with pytest.raises(ValidationError) as caught:
        # A mistake in another field must not echo the password either.
        Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_password=PASSWORD)
    assert PASSWORD not in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        Settings(kafka_security_protocol="TLS", kafka_sasl_password=PASSWORD)
    assert PASSWORD not in str(caught.value)
