"""Poison records go to the DLQ byte for byte, with the reason, and the projector goes on."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import asyncpg

from schemas import dlq
from schemas.codec import encode
from tests.integration.projections.projection_support import (
    T0,
    enqueue_command,
    enqueued,
    headers_of,
    produce,
    projector_running,
    read_topic,
    rescheduled,
    tampered,
    wait_caught_up,
)
from wavestack.settings import Settings


async def test_poison_records_land_in_the_dlq_with_reasons_and_the_projector_keeps_going(
    settings: Settings, db: asyncpg.Connection
) -> None:
    key = str(uuid.uuid4()).encode()  # one partition: every poison record sits among good ones
    good = [uuid.uuid4() for _ in range(3)]
    unknown_type = json.loads(encode(enqueued(uuid.uuid4())))
    unknown_type["type"] = "media.SomethingNew"
    poison_events = {
        b"\x00\xffnot json at all": "invalid envelope",
        json.dumps(unknown_type).encode(): "unknown message type 'media.SomethingNew'",
        tampered(enqueued(uuid.uuid4()), platform="myspace"): "invalid queue.ItemEnqueued data",
        encode(enqueued(uuid.uuid4(), title="nul\x00byte")): "0x00",  # not text in PostgreSQL
        encode(enqueue_command(uuid.uuid4(), uuid.uuid4())): "is not an event type",
        encode(rescheduled(good[0], 2**31, T0)): "out of int32 range",
    }
    poison_command = (b'{"id": "not a uuid"}', "invalid envelope")
    events = [(key, encode(enqueued(good[0])))]
    for value in poison_events:
        events += [(key, value)]
    events += [(key, encode(enqueued(good[1])))]
    await produce(settings.kafka_bootstrap, settings.topics.events, events)
    await produce(
        settings.kafka_bootstrap,
        settings.topics.commands,
        [(key, poison_command[0]), (key, encode(enqueue_command(uuid.uuid4(), good[2])))],
    )

    async with projector_running(settings) as projector:
        await wait_caught_up(settings, db)

    assert projector.stats.dead_lettered == 7
    assert await db.fetchval("SELECT count(*) FROM queue_items") == 2
    assert await db.fetchval("SELECT count(*) FROM commands") == 1
    assert await db.fetchval("SELECT count(*) FROM events") == 2  # nothing of the poison ones
    assert await db.fetchval("SELECT version FROM queue_items WHERE id = $1", good[0]) == 1
    letters = await read_topic(settings, settings.topics.dlq, at_least=7)
    assert len(letters) == 7
    expected = {**poison_events, poison_command[0]: poison_command[1]}
    for letter in letters:
        headers = headers_of(letter)
        assert letter.key == key
        assert letter.value in expected
        assert expected[letter.value] in headers[dlq.REASON]
        assert headers[dlq.CONSUMER] == "projector"
        topic, partition, offset = headers[dlq.SOURCE].rsplit(":", 2)
        assert topic in (settings.topics.events, settings.topics.commands)
        assert int(partition) >= 0 and int(offset) >= 0
        assert datetime.fromisoformat(headers[dlq.AT]).tzinfo is not None
    sources = {headers_of(letter)[dlq.SOURCE] for letter in letters}
    assert len(sources) == 7


async def test_a_refused_record_among_several_changes_of_one_row_costs_only_that_record(
    settings: Settings, db: asyncpg.Connection
) -> None:
    """The record-by-record retry must not merge the earlier records' staged rows again."""
    key = str(uuid.uuid4()).encode()
    item = uuid.uuid4()
    events = [
        (key, encode(enqueued(item))),
        (key, encode(rescheduled(item, 2, T0))),  # a second change of the same row
        (key, encode(enqueued(uuid.uuid4(), title="nul\x00byte"))),  # refused by PostgreSQL
        (key, encode(rescheduled(item, 3, T0))),
    ]
    await produce(settings.kafka_bootstrap, settings.topics.events, events)

    async with projector_running(settings) as projector:
        await wait_caught_up(settings, db)

    assert projector.stats.dead_lettered == 1
    assert await db.fetchval("SELECT version FROM queue_items WHERE id = $1", item) == 3
    assert await db.fetchval("SELECT count(*) FROM events") == 3
