"""Reading every place a credential could leak to: topics, tables, logs, HTTP answers.

Each reader returns text blobs with where they came from, so a failing search can
say exactly which record, row or log line held the secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


@dataclass
class Haystack:
    """Everything read, by place ("topic <name>", "table <schema.name>", "log <file>")."""

    blobs: dict[str, list[bytes]] = field(default_factory=dict)

    def add(self, place: str, blob: bytes) -> None:
        self.blobs.setdefault(place, []).append(blob)

    def count(self, prefix: str) -> int:
        return sum(len(v) for k, v in self.blobs.items() if k.startswith(prefix))

    def places(self, prefix: str) -> list[str]:
        return [k for k, v in self.blobs.items() if k.startswith(prefix) and v]

    def size(self) -> int:
        return sum(len(b) for v in self.blobs.values() for b in v)

    def find(self, needles: Iterable[str]) -> list[str]:
        """``place: excerpt`` for every blob that contains any needle."""
        found = []
        # bytea columns print as hex: look for that form too.
        forms = [n.encode() for n in needles] + [
            b"\\x" + n.encode().hex().encode() for n in needles
        ]
        for raw in forms:
            for place, blobs in self.blobs.items():
                for blob in blobs:
                    at = (
                        blob.lower().find(raw.lower()) if raw.startswith(b"\\x") else blob.find(raw)
                    )
                    if at >= 0:
                        excerpt = blob[max(0, at - 80) : at + len(raw) + 40]
                        found.append(f"{place}: …{excerpt.decode(errors='replace')}…")
        return found


async def read_topics(bootstrap: str, prefix: str, into: Haystack) -> list[str]:
    """Every record (key, value, headers) of every topic of the prefix; the topic names."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = sorted(
            t for t in await admin.list_topics() if t.startswith((f"{prefix}.", f"{prefix}-"))
        )
        described = await admin.describe_topics(names) if names else []
        counts = {d["topic"]: [p["partition"] for p in d["partitions"]] for d in described}
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        for name in names:
            partitions = [TopicPartition(name, p) for p in counts[name]]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            into.blobs.setdefault(f"topic {name}", [])
            while await behind(consumer, ends):
                batch = await consumer.getmany(timeout_ms=1000)
                for records in batch.values():
                    for record in records:
                        headers = b" ".join(k.encode() + b"=" + v for k, v in record.headers)
                        blob = b"\n".join((record.key or b"", record.value or b"", headers))
                        into.add(f"topic {name}", blob)
    finally:
        await consumer.stop()
    return names


async def read_tables(dsn: str, schemas: list[str], into: Haystack) -> None:
    """Every row of every table and view of the schemas, as PostgreSQL prints it."""
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema = ANY($1::text[])",
            schemas,
        )
        for row in tables:
            place = f"table {row['table_schema']}.{row['table_name']}"
            into.blobs.setdefault(place, [])
            query = f'SELECT t::text AS row FROM "{row["table_schema"]}"."{row["table_name"]}" t'
            for found in await conn.fetch(query):
                into.add(place, found["row"].encode())
    finally:
        await conn.close()


async def behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    """Whether some partition has records left before the end offsets taken earlier."""
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False
