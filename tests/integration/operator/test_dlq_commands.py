"""`wavestack dlq list | show | replay` on real dead letters; a replay applies once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from schemas.codec import encode
from streams.decider.app import DeciderProcess
from tests.integration.operator.cli_support import closed_port, put_letters, wavestack
from tests.integration.projections.projection_support import (
    enqueue_command,
    enqueued,
    eventually,
    headers_of,
    produce,
    projector_running,
    read_topic,
    wait_caught_up,
)
from wavestack.operator.letters import REPLAYED_FROM
from wavestack.settings import Settings

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJlLWJ5dGVz"


async def drop_ops_schema(settings: Settings) -> None:
    conn = await asyncpg.connect(settings.dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.db_schema}_ops" CASCADE')
    finally:
        await conn.close()


@asynccontextmanager
async def decider_running(settings: Settings) -> AsyncIterator[None]:
    process = DeciderProcess(settings)
    task = asyncio.create_task(process.run())
    try:
        yield
    finally:
        process.stop()
        await asyncio.wait_for(task, 30)


async def test_an_empty_dlq_lists_nothing_and_replays_nothing(settings: Settings) -> None:
    listed = await wavestack(settings, "dlq", "list")
    as_json = await wavestack(settings, "dlq", "list", "--json")
    replayed = await wavestack(settings, "dlq", "replay")

    assert listed.code == 0, listed.stderr
    assert listed.stdout == f"0 dead letter(s) on {settings.topics.dlq}\n"
    assert as_json.code == 0 and as_json.stdout == ""
    assert replayed.code == 0, replayed.stderr
    assert "0 letter(s) matched: 0 re-published" in replayed.stdout


async def test_list_and_show_a_letter_the_projector_refused_with_secrets_redacted(
    settings: Settings, db: asyncpg.Connection
) -> None:
    poison = json.dumps(
        {"id": "x", "data": {"title": "kept", "access_token": "s3cr3t", "note": JWT}}
    ).encode()
    await produce(settings.kafka_bootstrap, settings.topics.events, [(b"agg-1", poison)])
    async with projector_running(settings):
        await wait_caught_up(settings, db)

    listed = await wavestack(settings, "dlq", "list", "--json")
    assert listed.code == 0, listed.stderr
    (entry,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert entry["source_topic"] == settings.topics.events
    assert entry["consumer"] == "projector"
    assert entry["cause"] == "invalid envelope"
    assert entry["replays"] == 0
    text = await wavestack(settings, "dlq", "list")
    assert f"{entry['id']} " in text.stdout and "by projector  invalid envelope" in text.stdout

    shown = await wavestack(settings, "dlq", "show", entry["id"])

    assert shown.code == 0, shown.stderr
    assert f"source:   {entry['source']}" in shown.stdout
    assert "reason:   invalid envelope" in shown.stdout
    assert "key:      agg-1" in shown.stdout
    assert '"title": "kept"' in shown.stdout
    assert '"access_token": "[redacted]"' in shown.stdout
    assert "s3cr3t" not in shown.stdout and JWT not in shown.stdout
    as_json = json.loads((await wavestack(settings, "dlq", "show", entry["id"], "--json")).stdout)
    assert as_json["payload"]["data"] == {
        "title": "kept",
        "access_token": "[redacted]",
        "note": "[redacted]",
    }
    missing = await wavestack(settings, "dlq", "show", "0:999")
    assert missing.code == 2 and "no letter 0:999" in missing.stderr
    bad = await wavestack(settings, "dlq", "show", "nonsense")
    assert bad.code == 2 and "PARTITION:OFFSET" in bad.stderr


async def test_replaying_an_event_letter_twice_applies_it_once(
    settings: Settings, db: asyncpg.Connection
) -> None:
    item = uuid.uuid4()
    event = enqueued(item)
    source = f"{settings.topics.events}:1:42"
    # Two copies of one refusal (the DLQ is at-least-once), and an unrelated letter.
    await put_letters(
        settings,
        [
            (str(item).encode(), encode(event), "unknown message type", source),
            (str(item).encode(), encode(event), "unknown message type", source),
            (b"k", b"{}", "invalid envelope: id", f"{settings.topics.commands}:0:3"),
        ],
    )
    try:
        dry = await wavestack(
            settings, "dlq", "replay", "--dry-run", "--reason-contains", "UNKNOWN"
        )
        assert dry.code == 0, dry.stderr
        assert "2 letter(s) matched: 1 would re-publish, 1 copies skipped" in dry.stdout
        assert await read_topic(settings, settings.topics.events) == []

        first = await wavestack(settings, "dlq", "replay", "--source-topic", settings.topics.events)
        second = await wavestack(settings, "dlq", "replay", "--id", "0:0")

        assert first.code == 0, first.stderr
        assert f"re-published 0:0 ({source}) -> {settings.topics.events}:1:0" in first.stdout
        assert "skipped 0:1: a copy" in first.stdout
        assert second.code == 0, second.stderr
        copies = await read_topic(settings, settings.topics.events, at_least=2)
        assert [c.value for c in copies] == [encode(event)] * 2
        assert {c.partition for c in copies} == {1}
        assert headers_of(copies[0])[REPLAYED_FROM] == f"{settings.topics.dlq}:0:0"
        assert "wavestack-dlq-reason" not in headers_of(copies[0])
        async with projector_running(settings):
            await wait_caught_up(settings, db)
        assert await db.fetchval("SELECT count(*) FROM events WHERE id = $1", event.id) == 1
        row = await db.fetchrow("SELECT status, version FROM queue_items WHERE id = $1", item)
        assert row is not None and (row["status"], row["version"]) == ("scheduled", 1)
        journal = await db.fetch(
            f'SELECT dlq_offset, target_offset FROM "{settings.db_schema}_ops".dlq_replays'
            " ORDER BY target_offset"
        )
        assert [(r["dlq_offset"], r["target_offset"]) for r in journal] == [(0, 0), (0, 1)]
        listed = await wavestack(settings, "dlq", "list", "--id", "0:0")
        assert "replayed 2x" in listed.stdout
    finally:
        await drop_ops_schema(settings)


async def test_replaying_a_command_letter_twice_is_decided_once(
    settings: Settings, db: asyncpg.Connection
) -> None:
    command = enqueue_command(uuid.uuid4(), uuid.uuid4())
    source = f"{settings.topics.commands}:0:5"
    await put_letters(
        settings,
        [(str(command.aggregate_id).encode(), encode(command), "decider: transient", source)],
    )
    try:
        async with decider_running(settings), projector_running(settings):
            assert (await wavestack(settings, "dlq", "replay")).code == 0

            async def decided() -> bool:
                outcome = await db.fetchval(
                    "SELECT outcome FROM commands WHERE command_id = $1", command.command_id
                )
                return bool(outcome == "applied")

            await eventually(decided)
            assert (await wavestack(settings, "dlq", "replay")).code == 0
            await eventually(lambda: _events_at_least(settings, 4))
            await wait_caught_up(settings, db)
        items = await db.fetch(
            "SELECT id, version FROM queue_items WHERE id = $1", command.aggregate_id
        )
        assert [(r["id"], r["version"]) for r in items] == [(command.aggregate_id, 1)]
        emitted = await read_topic(settings, settings.topics.events, at_least=4)
        # The repeat re-emits the stored decision: the same event ids, kept once.
        ids = [json.loads(r.value)["id"] for r in emitted]
        assert len(ids) == 4 and len(set(ids)) == 2
        assert (
            await db.fetchval(
                "SELECT count(*) FROM events WHERE aggregate_id = $1", command.aggregate_id
            )
            == 1
        )
    finally:
        await drop_ops_schema(settings)


async def _events_at_least(settings: Settings, count: int) -> bool:
    return len(await read_topic(settings, settings.topics.events, timeout=1)) >= count


async def test_replay_refuses_a_letter_naming_another_deployments_topic(settings: Settings) -> None:
    await put_letters(settings, [(b"k", b"{}", "x", "someone-else.events:0:1")])

    run = await wavestack(settings, "dlq", "replay")

    assert run.code == 1
    assert "refused 0:0: source topic 'someone-else.events'" in run.stderr
    assert "1 refused" in run.stdout
    await drop_ops_schema(settings)


async def test_dlq_with_the_broker_down_fails_clearly(settings: Settings) -> None:
    run = await wavestack(
        settings, "dlq", "list", WAVESTACK_KAFKA_BOOTSTRAP=f"127.0.0.1:{closed_port()}"
    )

    assert run.code == 1
    assert run.seconds < 10
    assert "wavestack: KafkaConnectionError" in run.stderr
    assert "Traceback" not in run.stderr
