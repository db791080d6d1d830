"""The one place that reads the environment: every knob is a WAVESTACK_* variable."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, FilePath, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.catalog import Topics
from schemas.kafka_security import (
    KafkaConnection,
    KafkaSecurity,
    SaslMechanism,
    SecurityProtocol,
)


class Settings(BaseSettings):
    """Defaults point at the local stack that `make dev` and `make test` start."""

    model_config = SettingsConfigDict(
        env_prefix="WAVESTACK_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        # An error message must not echo what was given: passwords, DSNs.
        hide_input_in_errors=True,
    )

    kafka_bootstrap: str = "127.0.0.1:19092"
    # TLS and SASL of every Kafka client (docs/operations.md#kafka-security).
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: FilePath | None = None
    database_url: SecretStr = SecretStr("postgresql://wavestack@127.0.0.1:55432/wavestack")
    # The PostgreSQL schema that holds the live read model (tests use one per test).
    db_schema: str = Field(default="wavestack", pattern=r"^[a-z_][a-z0-9_]{0,40}$")
    topic_prefix: str = Field(default="wavestack", pattern=r"^[A-Za-z0-9._-]{1,100}$")
    topic_partitions: int = Field(default=6, ge=1, le=256)
    # 1 suits the single-node stack; a production cluster wants 3.
    topic_replication_factor: int = Field(default=1, ge=1, le=7)

    auth_keys_dir: Path = Field(
        default=Path(".stack/keys"),
        validation_alias=AliasChoices("WAVESTACK_AUTH_KEYS_DIR", "AUTH_KEYS_DIR"),
    )
    auth_key_id: str | None = Field(
        default=None, validation_alias=AliasChoices("WAVESTACK_AUTH_KEY_ID", "AUTH_KEY_ID")
    )
    auth_issuer: str = "wavestack"
    auth_audience: str = "wavestack-api"
    auth_jwks_url: str | None = None
    auth_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # An unknown kid refetches the external JWKS at most this often.
    auth_jwks_cooldown_seconds: float = Field(default=30.0, ge=0)

    media_root: Path = Path(".stack/media")
    # tus uploads (docs/api.md#uploads): one upload's size, one PATCH's body, how long an
    # unfinished upload is kept, and each organization's storage (None: unlimited).
    upload_max_bytes: int = Field(default=20 * 1024**3, gt=0)
    upload_chunk_max_bytes: int = Field(default=64 * 1024**2, gt=0)
    upload_expiry_seconds: float = Field(default=24 * 3600.0, gt=0)
    media_quota_bytes: int | None = Field(default=None, gt=0)
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, ge=1, le=65535)
    # `wavestack api` processes sharing api_port (SO_REUSEPORT); --processes overrides.
    api_processes: int = Field(default=1, ge=1, le=64)
    # Per-organization command rate (token bucket): sustained rate and burst.
    rate_limit_per_second: float = Field(default=200.0, gt=0)
    rate_limit_burst: int = Field(default=400, ge=1)

    log_format: Literal["json", "console"] = "console"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    # The streams processes' local table stores (the changelog topics are the truth);
    # the default keeps its Faust-era name, as static member names derive from it.
    worker_data_dir: Path = Path(".stack/faust")
    # How long a worker that stopped heartbeating keeps its partitions (the group then
    # hands them on); heartbeats go ten times as often.
    worker_session_timeout_seconds: float = Field(default=10.0, ge=1.0, le=300.0)
    # Static group membership: a restarted worker takes its partitions back at once
    # instead of waiting out its dead predecessor's session. Each process's name is
    # derived from the host and worker_data_dir (so every process needs its own data
    # directory), or set here (e.g. the pod name; "{hostname}" is replaced). Two live
    # processes must never share a name.
    worker_static_membership: bool = True
    worker_instance_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._{}-]{1,200}$")
    # Prometheus /metrics of the worker and the projector (the API serves its own on
    # its port); unset: not served. Bound to api_host.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    projector_metrics_port: int | None = Field(default=None, ge=1, le=65535)

    # Clipping limits (DESIGN.md §10: every ffmpeg run is bounded).
    clip_concurrency: int = Field(default=2, ge=1, le=32)
    clip_timeout_seconds: float = Field(default=600.0, gt=0)
    clip_max_output_bytes: int = Field(default=2 * 1024**3, gt=0)
    clip_max_source_bytes: int = Field(default=20 * 1024**3, gt=0)
    clip_max_width: int = Field(default=7680, gt=0)
    clip_max_height: int = Field(default=4320, gt=0)

    # Publishing (docs/publishing.md). Platform API bases: tests point them at fakes.
    platform_discord_base_url: str = "https://discord.com/api/v10"
    platform_youtube_base_url: str = "https://www.googleapis.com"
    platform_x_base_url: str = "https://api.x.com"
    # Lifts the egress rules (private addresses, plain http): tests, `make dev`.
    egress_allow_private: bool = False
    # The master key ring (vault/keyring.py format: "kid:base64,kid:base64"); the
    # first key wraps new data keys. Unset: connections can't be created or used.
    secret_key: SecretStr | None = None
    # Retries of a failed attempt: full-jitter backoff from this base, at most this many.
    publish_retry_base_seconds: float = Field(default=5.0, gt=0)
    publish_retry_cap_seconds: float = Field(default=3600.0, gt=0)
    publish_max_attempts: int = Field(default=10, ge=1, le=100)
    # One platform call's limits (read: the answer after the request went out).
    publish_timeout_seconds: float = Field(default=60.0, gt=0)
    publish_read_timeout_seconds: float = Field(default=30.0, gt=0)
    # A PublishStarted older than this is never acted on (the log is being replayed,
    # or the publisher was down that long): the attempt is reported not sent.
    publish_start_max_age_seconds: float = Field(default=900.0, gt=0)
    # How often the scheduler looks for due items.
    publish_tick_seconds: float = Field(default=0.2, gt=0, le=5)
    # Reading back published posts' figures (YouTube, X): every `early` seconds for the
    # first `early_period`, every `late` after, for `window` seconds after publishing.
    metrics_early_interval_seconds: float = Field(default=900.0, gt=0)
    metrics_late_interval_seconds: float = Field(default=3600.0, gt=0)
    metrics_early_period_seconds: float = Field(default=86400.0, ge=0)
    metrics_window_seconds: float = Field(default=7 * 86400.0, ge=0)
    # How often the reader looks for posts due a read; reads running at once, at most.
    metrics_tick_seconds: float = Field(default=5.0, gt=0, le=60)
    metrics_concurrency: int = Field(default=4, ge=1, le=64)

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> Settings:
        # Fail at start-up, not at the first client: SASL without credentials.
        try:
            self.kafka  # noqa: B018
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        return self

    @property
    def kafka(self) -> KafkaConnection:
        """Bootstrap and security of every Kafka client (schemas/kafka_security.py)."""
        return KafkaConnection(
            bootstrap=self.kafka_bootstrap,
            security=KafkaSecurity(
                protocol=self.kafka_security_protocol,
                sasl_mechanism=self.kafka_sasl_mechanism,
                sasl_username=self.kafka_sasl_username,
                sasl_password=self.kafka_sasl_password,
                ssl_cafile=self.kafka_ssl_cafile,
            ),
        )

    # Outbound webhooks (docs/api.md#webhooks): the waits between attempts (Standard
    # Webhooks' example schedule: now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h,
    # 24 h; one attempt more than waits), one request's time limit, and how many
    # requests one subscription may have in flight (the rest wait in the due table).
    webhook_retry_schedule_seconds: list[float] = Field(
        default=[5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400], max_length=50
    )
    webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    webhook_concurrency_per_subscription: int = Field(default=4, ge=1, le=64)
    webhook_poll_seconds: float = Field(default=0.5, gt=0, le=10)

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)

    @property
    def dsn(self) -> str:
        return self.database_url.get_secret_value()
