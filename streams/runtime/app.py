"""What every streams process shares: the settings it reads, its name in its group.

Each kind of work (deciding, media, publishing, webhooks, integrations) is its own
plain aiokafka process in its own consumer group: a ten-minute clip never holds up a
decision, and each scales with its own processes (streams/runtime/clients.py builds
their consumers and producers from these).
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from typing import Protocol

from schemas.kafka_security import KafkaConnection

# Kafka's request size cap for our producers: as large as the API's producer allows a
# command, so the events of a command Kafka already accepted are never refused.
MAX_REQUEST_BYTES = 1024 * 1024


class StreamsSettings(Protocol):
    """What every streams process reads from ``wavestack.settings.Settings`` (layering)."""

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
    def worker_session_timeout_seconds(self) -> float: ...
    @property
    def worker_instance_id(self) -> str | None: ...
    @property
    def worker_static_membership(self) -> bool: ...


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
