"""The Faust plumbing every streams app shares: the app class, its producer, topics, tables.

Each kind of work (deciding, media, publishing) is its own Faust app, so its own
consumer group: a ten-minute clip never holds up a decision, and each scales with
its own processes. They all configure Faust the same way, here.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from typing import Any, Protocol, cast

import faust
from faust.transport.drivers.aiokafka import Producer
from faust.types import TableT, TopicT
from faust.types.auth import CredentialsT

from probes import health
from schemas.kafka_security import KafkaConnection, KafkaSecurity, ssl_context

# Kafka's request size cap for our producers: as large as the API's producer allows a
# command; faust's default is smaller, which would refuse the events of a command
# Kafka already accepted.
MAX_REQUEST_BYTES = 1024 * 1024
PRODUCER_LINGER_SECONDS = 0.02
PRODUCER_BATCH_BYTES = 256 * 1024


class StreamsSettings(Protocol):
    """What every streams app reads from ``wavestack.settings.Settings`` (layering)."""

    @property
    def kafka_bootstrap(self) -> str: ...
    @property
    def kafka(self) -> KafkaConnection: ...
    @property
    def topic_prefix(self) -> str: ...
    @property
    def topic_partitions(self) -> int: ...
    @property
    def topic_replication_factor(self) -> int: ...
    @property
    def worker_data_dir(self) -> Path: ...
    @property
    def worker_web_port(self) -> int: ...
    @property
    def worker_session_timeout_seconds(self) -> float: ...
    @property
    def worker_instance_id(self) -> str | None: ...
    @property
    def worker_static_membership(self) -> bool: ...


class IdempotentProducer(Producer):
    """faust turns on producer idempotence only with exactly_once; we want it always.

    With acks=all and idempotence, the broker drops a retried batch it already has
    and refuses one that would land out of order, so an internal retry of aiokafka
    never writes a message twice or reorders a partition.
    """

    def _settings_extra(self) -> dict[str, Any]:
        return {"acks": "all", "enable_idempotence": True}


class StreamsApp(faust.App):
    """A Faust app whose agents named in ``stop_first`` stop before faust waits for acks.

    faust's shutdown waits until every started message is acked; an agent busy for
    minutes (a clip) would hold it that long. Stopping it first cancels its work,
    which leaves its message unacked, so it is redone after a restart.
    """

    stop_first: tuple[str, ...] = ()

    def _new_producer(self) -> Producer:
        return IdempotentProducer(self.transport, loop=self.loop, beacon=self.beacon)

    async def on_stop(self) -> None:
        for name in self.stop_first:
            agent = self.agents.get(name)
            if agent is not None:
                await agent.stop()
        await super().on_stop()


def create_streams_app(
    settings: StreamsSettings,
    role: str,
    *,
    busy_seconds: float,
    web: bool = False,
    app_id: str | None = None,
) -> StreamsApp:
    """One Faust app of one role; its group id and changelog topics follow the prefix.

    ``busy_seconds``: the longest one message may keep its agent busy (a clip). faust
    leaves the group when its fetcher stops polling that long (it does while a stream
    buffer is full) and logs "slow processing" past it.
    ``app_id``: the consumer group, by default ``<prefix>-<role>``.
    """
    session = settings.worker_session_timeout_seconds
    app = StreamsApp(
        app_id or f"{settings.topic_prefix}-{role}",
        broker=[f"kafka://{host.strip()}" for host in settings.kafka.bootstrap.split(",")],
        broker_credentials=faust_credentials(settings.kafka.security),
        # At-least-once plus deterministic ids; exactly_once is not trusted (DESIGN §10).
        processing_guarantee="at_least_once",
        producer_acks=-1,
        producer_max_request_size=MAX_REQUEST_BYTES,
        # Many tasks send at once (the publisher's attempts, flushed in shared rounds):
        # 20 ms of linger and large batches let them share produce requests. A clip's
        # steps pay the 20 ms each, which is nothing next to ffmpeg.
        producer_linger=PRODUCER_LINGER_SECONDS,
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        # Tables on disk (RocksDB, through rocksdict): a restart reads only the
        # changelog written since its last commit, not the whole history.
        store="rocksdb://",
        datadir=str(settings.worker_data_dir / role),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        # Static membership (KIP-345): a restarted member takes its partitions back at
        # once, instead of waiting out its dead predecessor's session.
        consumer_group_instance_id=instance_id(settings, role),
        # Produce when we say so: our sends are awaited by the agents.
        stream_publish_on_commit=False,
        broker_session_timeout=session,
        broker_heartbeat_interval=max(session / 10, 0.3),
        broker_rebalance_timeout=max(session, 10.0),
        broker_max_poll_interval=busy_seconds,
        stream_processing_timeout=busy_seconds,
        broker_commit_livelock_soft_timeout=busy_seconds,
        web_enabled=web,
        web_port=settings.worker_web_port,
        web_host="127.0.0.1",
        key_serializer="raw",
        value_serializer="raw",
    )
    follow_for_probes(app)
    return app


def follow_for_probes(app: faust.App) -> None:
    """The health probes (probes/health.py) of a Faust app: its loop's heartbeat from
    the moment the worker runs it, and not ready from a revocation until faust has
    recovered the tables of the new assignment (``on_rebalance_complete``)."""
    health.beat_on(app.loop)

    async def revoked(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        health.rebalancing()

    async def recovered(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        # The tables' changelog partitions are assigned too; the streams' are the work.
        assigned = app.consumer.assignment()
        health.assigned(tp for tp in assigned if not tp.topic.endswith("-changelog"))

    # mode types its handlers with mypy_extensions' argument kinds, which no def matches.
    app.on_partitions_revoked.connect(cast(Any, revoked))
    app.on_rebalance_complete.connect(cast(Any, recovered))


def faust_credentials(security: KafkaSecurity) -> CredentialsT | None:
    """The same TLS and SASL options as every aiokafka client, in Faust's terms."""
    context = ssl_context(security)
    if security.uses_sasl:
        assert security.sasl_password is not None  # KafkaSecurity's validator saw to it
        # With a context Faust speaks SASL_SSL, without one SASL_PLAINTEXT.
        return faust.SASLCredentials(
            username=security.sasl_username,
            password=security.sasl_password.get_secret_value(),
            ssl_context=context,
            mechanism=security.sasl_mechanism,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def instance_id(settings: StreamsSettings, role: str) -> str | None:
    """This process's stable name in its group, or None for dynamic membership.

    By default the name is derived from the host and the data directory: a restart
    of the same process finds the same directory (its RocksDB tables), and two live
    processes of one role cannot share a directory, so the name is stable across
    restarts and unique among live members (docs/decisions.md, "Static membership").
    """
    if not settings.worker_static_membership:
        return None
    host = socket.gethostname()
    base = settings.worker_instance_id
    if base:
        return f"{base.replace('{hostname}', host)}-{role}"
    place = hashlib.sha256(f"{host}:{settings.worker_data_dir.resolve()}".encode()).hexdigest()
    # One id per role: the decider and the media app of one host are two members.
    return f"{host}-{place[:12]}-{role}"


def raw_topic(app: faust.App, name: str) -> TopicT:
    """One of our topics, read as bytes: the agents decode (and dead-letter) themselves."""
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        internal=False,
    )


def json_table(app: faust.App, name: str, partitions: int, description: str) -> TableT[Any, Any]:
    """A table keyed by str, one partition per partition of its stream; values JSON bytes.

    Callers store a model's JSON as bytes (pydantic writes it once, and faust neither
    re-encodes it for the store nor for the changelog); values that faust's own JSON
    codec wrote earlier read back as the same JSON bytes.
    """
    return app.Table(
        name,
        partitions=partitions,
        key_type=str,  # JSON-encoded str keys on the changelog
        value_type=bytes,  # raw
        help=description,
    )
