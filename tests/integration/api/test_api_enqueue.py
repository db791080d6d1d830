"""POST /v1/queue end to end onto the real commands topic: envelope and idempotency."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from schemas.envelope import Envelope
from schemas.ids import aggregate_id_for, command_id_for, fingerprint

Headers = Callable[..., dict[str, str]]
Reader = Callable[[], Awaitable[list[Envelope]]]

ITEM = {"platform": "youtube", "title": "Launch trailer"}


def idem(key: str, **more: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **more}


async def test_enqueue_answers_202_with_ids_derived_from_org_and_key(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader
) -> None:
    resp = await client.post("/v1/queue", json=ITEM, headers=bearer() | idem("k-1"))
    assert resp.status == 202
    body = await resp.json()
    command_id = command_id_for("org-a", "k-1")
    item_id = aggregate_id_for(command_id)
    assert body == {"id": str(item_id), "command_id": str(command_id), "status": "accepted"}
    assert resp.headers["Location"] == f"/v1/queue/{item_id}"

    [envelope] = await read_commands()
    assert envelope.id == envelope.command_id == command_id
    assert envelope.aggregate_id == item_id
    assert envelope.type == "queue.EnqueueItem"
    assert envelope.org_id == "org-a"
    assert envelope.correlation_id == envelope.causation_id == command_id
    assert envelope.actor.sub == "alice"
    assert envelope.actor.kind == "user"
    # Defaults stay unfilled: the decider reads "now" from occurred_at.
    assert envelope.data == ITEM


async def test_the_commands_topic_is_keyed_by_the_aggregate_id(
    client: TestClient[Any, Any], bearer: Headers, settings: Any
) -> None:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    resp = await client.post("/v1/queue", json=ITEM, headers=bearer() | idem("keyed"))
    item_id = (await resp.json())["id"]
    topic = settings.topics.commands
    parts = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        batches = await consumer.getmany(*parts, timeout_ms=5000)
        keys = [m.key for msgs in batches.values() for m in msgs]
    finally:
        await consumer.stop()
    assert keys == [item_id.encode()]


async def test_a_bot_token_is_recorded_as_a_bot_actor(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader
) -> None:
    headers = bearer(sub="discord-bot-7", kind="bot") | idem("bot-1")
    assert (await client.post("/v1/queue", json=ITEM, headers=headers)).status == 202
    [envelope] = await read_commands()
    assert (envelope.actor.sub, envelope.actor.kind) == ("discord-bot-7", "bot")


async def test_a_correlation_id_header_is_carried_into_the_envelope(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader
) -> None:
    correlation = uuid.uuid4()
    headers = bearer() | idem("corr", **{"X-Correlation-Id": str(correlation)})
    assert (await client.post("/v1/queue", json=ITEM, headers=headers)).status == 202
    [envelope] = await read_commands()
    assert envelope.correlation_id == correlation
    assert envelope.causation_id == envelope.command_id


async def test_same_key_and_body_twice_answers_the_same_ids(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader
) -> None:
    first = await client.post("/v1/queue", json=ITEM, headers=bearer() | idem("twice"))
    second = await client.post("/v1/queue", json=ITEM, headers=bearer() | idem("twice"))
    assert first.status == second.status == 202
    assert await first.json() == await second.json()
    assert {e.command_id for e in await read_commands()} == {command_id_for("org-a", "twice")}


async def test_twenty_concurrent_identical_requests_make_one_command(
    client_factory: Callable[..., Awaitable[TestClient[Any, Any]]],
    bearer: Headers,
    read_commands: Reader,
) -> None:
    # Two app instances, as behind a load balancer: the in-process memory cannot help.
    clients = [await client_factory(), await client_factory()]
    headers = bearer() | idem("burst")
    responses = await asyncio.gather(
        *(clients[i % 2].post("/v1/queue", json=ITEM, headers=headers) for i in range(20))
    )
    assert [r.status for r in responses] == [202] * 20
    bodies = [await r.json() for r in responses]
    assert len({b["id"] for b in bodies}) == 1
    assert len({e.command_id for e in await read_commands()}) == 1


async def test_same_key_with_another_body_is_refused_when_the_first_use_is_known(
    client: TestClient[Any, Any], bearer: Headers, db: asyncpg.Connection, read_commands: Reader
) -> None:
    # The first use is known to the read model only (as after a restart of the API).
    command_id = command_id_for("org-a", "reused")
    await db.execute(
        "INSERT INTO commands (command_id, org_id, type, aggregate_type, aggregate_id, "
        "fingerprint, requested_at) VALUES ($1, 'org-a', 'queue.EnqueueItem', 'queue_item', "
        "$2, $3, now())",
        command_id,
        aggregate_id_for(command_id),
        fingerprint("queue.EnqueueItem", ITEM),
    )
    same = await client.post("/v1/queue", json=ITEM, headers=bearer() | idem("reused"))
    assert same.status == 202
    assert (await same.json())["command_id"] == str(command_id)

    other = {**ITEM, "title": "Another title"}
    resp = await client.post("/v1/queue", json=other, headers=bearer() | idem("reused"))
    assert resp.status == 422
    assert resp.content_type == "application/problem+json"
    problem = await resp.json()
    assert problem["type"].endswith("idempotency-key-reused")
    assert problem["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await read_commands() == []  # neither request had to produce


async def test_same_key_with_another_body_is_refused_by_the_same_process_at_once(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    first = await client.post("/v1/queue", json=ITEM, headers=bearer() | idem("again"))
    assert first.status == 202
    other = {**ITEM, "platform": "tiktok"}
    second = await client.post("/v1/queue", json=other, headers=bearer() | idem("again"))
    assert second.status == 422


async def test_a_missing_idempotency_key_is_a_400(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader
) -> None:
    resp = await client.post("/v1/queue", json=ITEM, headers=bearer())
    assert resp.status == 400
    problem = await resp.json()
    assert problem["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await read_commands() == []


async def test_an_idempotency_key_with_spaces_or_over_255_chars_is_a_400(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    for key in ("has space", "x" * 256, "tab\tinside"):
        resp = await client.post("/v1/queue", json=ITEM, headers=bearer() | idem(key))
        assert resp.status == 400, key
    ok = await client.post("/v1/queue", json=ITEM, headers=bearer() | idem("x" * 255))
    assert ok.status == 202


async def test_the_same_key_in_two_organizations_makes_two_items(
    client: TestClient[Any, Any], bearer: Headers, read_commands: Reader
) -> None:
    a = await client.post("/v1/queue", json=ITEM, headers=bearer(org="org-a") | idem("shared"))
    b = await client.post("/v1/queue", json=ITEM, headers=bearer(org="org-b") | idem("shared"))
    assert a.status == b.status == 202
    assert (await a.json())["id"] != (await b.json())["id"]
    envelopes = await read_commands()
    assert sorted(e.org_id for e in envelopes) == ["org-a", "org-b"]
    assert len({e.command_id for e in envelopes}) == 2


async def test_get_command_answers_pending_right_after_the_post(
    client: TestClient[Any, Any], bearer: Headers
) -> None:
    resp = await client.post("/v1/queue", json=ITEM, headers=bearer() | idem("poll"))
    command_id = (await resp.json())["command_id"]
    status = await client.get(f"/v1/commands/{command_id}", headers=bearer())
    assert status.status == 200
    body = await status.json()
    assert body["outcome"] == "pending"
    assert body["aggregate_id"] == (await resp.json())["id"]
    other_org = await client.get(f"/v1/commands/{command_id}", headers=bearer(org="org-b"))
    assert other_org.status == 404
