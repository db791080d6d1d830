"""Two processes of every kind on the 3-broker cluster; one of each SIGKILLed in turn
and restarted at once, under a steady stream of items due within a second: every
command still has one outcome, every item one row and one post, and the surviving
process of each kind kept working while its peer was down (DESIGN §14)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from api.auth.cli import issue_token_from_settings
from tests.fakes.webhook import FakeWebhookReceiver
from tests.integration.cluster.checks import (
    assert_no_forked_history,
    assert_one_outcome_each,
    assert_read_model_exact,
    distinct,
    eventually,
    read_log,
)
from tests.integration.cluster.fleet import Fleet, Member
from tests.integration.cluster.load import Load
from tests.integration.cluster.posting import create_connection, item
from tests.integration.publishing.harness import whsec
from wavestack.settings import Settings
from wavestack.topics import replicas_by_topic

ORG = "org-fleet"
MAX_ITEMS = 600  # the stream runs until the fourth restart, at most this many
RATE = 5.0  # per second
COUNTS = {"api": 2, "decider": 2, "publisher": 2, "projector": 2}

Progress = Callable[[Member], Awaitable[float]]


async def decided(m: Member) -> float:
    return await m.metric("wavestack_decider_commands_total", kind="decided")


async def projected(m: Member) -> float:
    return await m.metric("wavestack_projector_records_total", result="applied")


async def published(m: Member) -> float:
    return float(m.output().count("publish_succeeded"))


@pytest.mark.slow
async def test_one_process_of_each_kind_killed_in_turn_loses_and_doubles_nothing(
    cluster_settings: Settings, cluster_db: asyncpg.Connection, tmp_path: Path
) -> None:
    settings = cluster_settings
    fleet = Fleet(settings, tmp_path, COUNTS)
    token = issue_token_from_settings(
        settings, org=ORG, sub="bot-1", scope="connections:write queue:write read", ttl=900
    )
    receiver = FakeWebhookReceiver(whsec())
    await receiver.start()
    await fleet.start()
    worked: dict[str, float] = {}
    try:
        connection_id = await create_connection(fleet["api"][0], token, receiver)
        urls = [m.base_url for m in fleet["api"]]
        load = Load(urls, token, item(connection_id), MAX_ITEMS, RATE)
        enough = asyncio.Event()
        sending = asyncio.create_task(load.run(enough))
        await asyncio.sleep(4.0)  # traffic flowing through every kind of process

        async def api_answers(m: Member) -> float:
            return float(load.accepted_by[m.base_url])

        steps: list[tuple[str, Progress]] = [
            ("decider", decided),
            ("projector", projected),
            ("publisher", published),
            ("api", api_answers),
        ]
        for kind, progress in steps:
            victim, survivor = fleet[kind]
            before = await progress(survivor)
            await victim.kill()
            await victim.restart()  # at once; ready again when this returns
            worked[kind] = await progress(survivor) - before
            assert not sending.done(), "the stream ended before the last kill"
        await asyncio.sleep(2.0)  # and some traffic after the last restart
        enough.set()
        await sending
        items = {a.item_id for a in load.accepted}

        async def all_published() -> bool:
            done = await cluster_db.fetchval(
                "SELECT count(*) FROM queue_items WHERE org_id = $1 AND status = 'published'",
                ORG,
            )
            return bool(done >= len(items))

        await eventually(all_published, 180, "every item published and projected")
        await asyncio.sleep(1.0)  # a late second post would show up now
        # Ours and the changelogs the decider and the publisher made: 3 copies each.
        replicas = await replicas_by_topic(settings.kafka_bootstrap, settings.topic_prefix)
    finally:
        codes = await fleet.stop()
        await receiver.stop()
    assert codes == [0] * len(fleet.all), fleet.output()
    changelogs = [t for t in replicas if t.startswith(f"{settings.topic_prefix}-")]
    assert len(changelogs) >= 2, replicas  # the decider's and the publisher's tables
    assert set(replicas.values()) == {3}, replicas

    print(
        f"{len(items)} items; survivors' work while their peer was down: {worked}; "
        f"retried: {dict(load.refusals)}"
    )
    # The survivor of each kind went on deciding, projecting, posting, answering.
    assert all(amount > 0 for amount in worked.values()), worked
    assert len(load.accepted) == load.sent == len(items)
    posts = Counter(d.payload["data"]["item_id"] for d in receiver.deliveries)
    assert posts == {str(i): 1 for i in items}, "an item posted twice, or not at all"

    events = await read_log(settings, settings.topics.events)
    assert_one_outcome_each(events, [a.command_id for a in load.accepted])
    assert_no_forked_history(events)
    per_item = Counter(e.aggregate_id for e in distinct(events, "queue.ItemPublished").values())
    assert per_item == dict.fromkeys(items, 1)
    await assert_read_model_exact(cluster_db, ORG, load.accepted)
    assert await read_log(settings, settings.topics.dlq) == []
    assert [fleet[kind][0].starts for kind in COUNTS] == [2, 2, 2, 2]  # each kill happened
