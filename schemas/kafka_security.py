"""How every Kafka client connects: the bootstrap servers plus TLS and SASL, in one model.

It lives in schemas/ because that is the one package every other one may import
(api/, streams/, projections/, wavestack/); it holds no domain knowledge. The only
I/O is reading the CA file, and only when a client is built (``kafka_client_options``).
"""

from __future__ import annotations

import ssl
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, FilePath, SecretStr, model_validator

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"]


class KafkaSecurity(BaseModel):
    """``WAVESTACK_KAFKA_SECURITY_PROTOCOL`` and its companions (DESIGN.md §5)."""

    # hide_input_in_errors: a validation error must never echo the password.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    # PEM bundle of the CAs that sign the brokers' certificates; None: the system's.
    ssl_cafile: FilePath | None = None

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaSecurity:
        if self.uses_sasl and not (self.sasl_username and self.sasl_password):
            raise ValueError(
                f"WAVESTACK_KAFKA_SECURITY_PROTOCOL={self.protocol} needs "
                "WAVESTACK_KAFKA_SASL_USERNAME and WAVESTACK_KAFKA_SASL_PASSWORD"
            )
        return self

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")


PLAINTEXT = KafkaSecurity()


class KafkaConnection(BaseModel):
    """Where the brokers are and how to talk to them: what every client factory takes."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    bootstrap: str
    security: KafkaSecurity = PLAINTEXT


class HasKafka(Protocol):
    """Settings objects (``wavestack.settings.Settings``) that carry a connection."""

    @property
    def kafka(self) -> KafkaConnection: ...


def connection_of(kafka: KafkaConnection | HasKafka | str) -> KafkaConnection:
    """A bare bootstrap string is a PLAINTEXT connection (the local stack, tests)."""
    if isinstance(kafka, KafkaConnection):
        return kafka
    if isinstance(kafka, str):
        return KafkaConnection(bootstrap=kafka)
    return kafka.kafka


def ssl_context(security: KafkaSecurity) -> ssl.SSLContext | None:
    """Verifies the broker's certificate and host name, TLS 1.2 or later; None without TLS."""
    if not security.uses_tls:
        return None
    cafile = str(security.ssl_cafile) if security.ssl_cafile is not None else None
    # create_default_context: CERT_REQUIRED, check_hostname, the safe protocol floor.
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)


def security_options(security: KafkaSecurity) -> dict[str, Any]:
    """aiokafka's keyword arguments for TLS and SASL (nothing else)."""
    options: dict[str, Any] = {"security_protocol": security.protocol}
    context = ssl_context(security)
    if context is not None:
        options["ssl_context"] = context
    if security.uses_sasl:
        assert security.sasl_password is not None  # the validator saw to it
        options["sasl_mechanism"] = security.sasl_mechanism
        # aiokafka names these "plain" but uses them for the SCRAM mechanisms too.
        options["sasl_plain_username"] = security.sasl_username
        options["sasl_plain_password"] = security.sasl_password.get_secret_value()
    return options


def kafka_client_options(kafka: KafkaConnection | HasKafka | str) -> dict[str, Any]:
    """Everything an aiokafka producer, consumer or admin client needs to connect:

    ``AIOKafkaConsumer(**kafka_client_options(settings), group_id=...)``. The dict holds
    the password in clear (aiokafka wants it so): pass it on, never log it.
    """
    connection = connection_of(kafka)
    return {"bootstrap_servers": connection.bootstrap, **security_options(connection.security)}
