"""The publishing pipeline as processes: a decider and publishers on unique topics.

Tests produce commands straight to the commands topic, as the API would, connect
webhook receivers (tests/fakes/webhook.py) through the key table, and read what the
decider wrote on the events topic.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from schemas.commands import EnqueueItem
from schemas.envelope import Envelope
from schemas.ids import aggregate_id_for, command_id_for
from schemas.publishing import CreateConnection
from tests.conftest import TEST_PARTITIONS
from tests.fakes.webhook import FakeWebhookReceiver
from tests.integration.publishing.harness import whsec
from tests.integration.streams.helpers import (
    TEST_SESSION_TIMEOUT,
    TopicReader,
    Worker,
    creating,
    send_commands,
)
from tests.isolation import delete_topics, own_settings
from vault import keytable
from vault.keyring import KeyRing, generate_entry
from wavestack.settings import Settings
from wavestack.topics import ensure_topics

ORG = "org-publish"


@dataclass
class Pipeline:
    settings: Settings
    folder: Path
    ring: KeyRing
    decider: Worker
    publishers: list[Worker]
    events: TopicReader
    receivers: list[FakeWebhookReceiver] = field(default_factory=list)

    @classmethod
    async def start(
        cls, base: Settings, folder: Path, publishers: int = 1, **overrides: Any
    ) -> Pipeline:
        ring_text = generate_entry("test1")
        values: dict[str, Any] = {
            "log_format": "console",
            "worker_session_timeout_seconds": TEST_SESSION_TIMEOUT,
            "secret_key": ring_text,
            "egress_allow_private": True,
            "publish_retry_base_seconds": 0.3,
            "publish_read_timeout_seconds": 3.0,
        }
        settings = own_settings(
            base, folder, "publish", partitions=TEST_PARTITIONS, **{**values, **overrides}
        )
        await ensure_topics(settings.kafka_bootstrap, settings.topics, settings.topic_partitions)
        conn = await asyncpg.connect(settings.dsn)
        try:
            await keytable.create_table(conn, settings.db_schema)
        finally:
            await conn.close()
        pipeline = cls(
            settings,
            folder,
            KeyRing.parse(ring_text),
            Worker(settings, folder, "decider"),
            [],
            TopicReader(settings, settings.topics.events),
        )
        await pipeline.decider.start()
        await pipeline.events.start()
        for _ in range(publishers):
            pipeline.publishers.append(await pipeline.add_publisher())
        await pipeline.decider.ready()
        for publisher in pipeline.publishers:
            await publisher.ready()
        return pipeline

    async def add_publisher(self) -> Worker:
        """Another publisher process of the same group: own data directory and log."""
        index = len(self.publishers)
        folder = self.folder / f"publisher-{index}"
        folder.mkdir(parents=True, exist_ok=True)
        settings = self.settings.model_copy(update={"worker_data_dir": folder / "faust"})
        worker = Worker(settings, folder, "publisher")
        await worker.start()
        return worker

    @property
    def publisher(self) -> Worker:
        return self.publishers[0]

    async def receiver(self) -> FakeWebhookReceiver:
        fake = FakeWebhookReceiver(whsec())
        await fake.start()
        self.receivers.append(fake)
        return fake

    async def connect(self, receiver: FakeWebhookReceiver, name: str = "hook") -> uuid.UUID:
        """A webhook connection as the API makes it: key row first, then the command."""
        key = f"connection-{uuid.uuid4().hex}"
        connection_id = aggregate_id_for(command_id_for(ORG, key))
        credentials = {"url": receiver.url(name), "secret": receiver.secret}
        wrapped, sealed = keytable.seal_new(self.ring, ORG, str(connection_id), credentials)
        stored = keytable.StoredConnection(
            str(connection_id), ORG, "webhook", wrapped, sealed_credentials=sealed
        )
        conn = await asyncpg.connect(self.settings.dsn)
        try:
            await keytable.store(conn, self.settings.db_schema, stored)
        finally:
            await conn.close()
        command = CreateConnection(
            platform="webhook", name=name, sealed_credentials=sealed, key_id=self.ring.primary
        )
        await send_commands(self.settings, [creating(ORG, key, command)])
        return connection_id

    def enqueue(self, connection_id: uuid.UUID, at: datetime, title: str = "Post") -> Envelope:
        command = EnqueueItem(
            platform="webhook",
            title=title,
            schedule_at=at,
            connection_id=connection_id,
            connection_platform="webhook",
        )
        return creating(ORG, f"item-{uuid.uuid4().hex}", command)

    async def send(self, envelopes: list[Envelope]) -> None:
        await send_commands(self.settings, envelopes)

    def of_item(self, item_id: uuid.UUID, message_type: str) -> list[Envelope]:
        """Distinct events of one type for one item (a redelivery repeats an event's id)."""
        seen: dict[uuid.UUID, Envelope] = {}
        for e in self.events.of_type(message_type):
            if e.aggregate_id == item_id:
                seen.setdefault(e.id, e)
        return list(seen.values())

    async def wait_for(
        self, item_id: uuid.UUID, message_type: str, count: int = 1, timeout: float = 30.0
    ) -> list[Envelope]:
        await self.events.wait_until(
            lambda _: len(self.of_item(item_id, message_type)) >= count, timeout
        )
        return self.of_item(item_id, message_type)

    def output(self) -> str:
        return "\n".join(w.output()[-4000:] for w in (self.decider, *self.publishers))

    async def stop(self) -> int | None:
        await self.events.stop()
        for receiver in self.receivers:
            await receiver.stop()
        codes = [await w.stop() for w in (*self.publishers, self.decider)]
        conn = await asyncpg.connect(self.settings.dsn)
        try:
            schema = keytable.key_schema(self.settings.db_schema)
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()
        await delete_topics(self.settings.kafka_bootstrap, self.settings.topic_prefix)
        return next((c for c in codes if c != 0), 0)


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
