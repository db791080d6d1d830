"""One broker of three SIGKILLed under a steady stream of commands, then restarted:
nothing accepted is lost, nothing is doubled, nothing is published twice (DESIGN §14)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

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
from tests.integration.cluster.cluster import LocalCluster
from tests.integration.cluster.fleet import Fleet
from tests.integration.cluster.load import Load
from tests.integration.cluster.posting import create_connection, item
from tests.integration.publishing.harness import whsec
from wavestack.settings import Settings

ORG = "org-cluster"
ITEMS = 300
RATE = 12.0  # per second: the stream lasts ~25 s, the outage sits in its middle
OUTAGE_S = 9.0  # longer than the brokers' 6 s session: the dead node is fenced


async def min_insync(cluster: LocalCluster, topic: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    await admin.start()
    try:
        resource = ConfigResource(ConfigResourceType.TOPIC, topic)
        [described] = await admin.describe_configs([resource])
        return str({c[0]: c[1] for c in described.resources[0][4]}["min.insync.replicas"])
    finally:
        await admin.close()


@pytest.mark.slow
async def test_a_broker_killed_under_load_loses_and_doubles_nothing(
    cluster: LocalCluster,
    cluster_settings: Settings,
    cluster_db: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    settings = cluster_settings
    fleet = Fleet(settings, tmp_path, {"api": 1, "decider": 1, "publisher": 1, "projector": 1})
    token = issue_token_from_settings(
        settings, org=ORG, sub="bot-1", scope="connections:write queue:write read", ttl=900
    )
    receiver = FakeWebhookReceiver(whsec())
    await receiver.start()
    await fleet.start()
    try:
        connection_id = await create_connection(fleet["api"][0], token, receiver)
        load = Load([m.base_url for m in fleet["api"]], token, item(connection_id), ITEMS, RATE)
        sending = asyncio.create_task(load.run())
        while len(load.accepted) < ITEMS // 4:
            assert not sending.done(), sending
            await asyncio.sleep(0.1)
        # The broker that leads the commands topic's first partition: its loss moves a
        # leader the API is writing to and the decider is reading from.
        victim = await cluster.leader_of(settings.topics.commands, 0)
        await cluster.kill(victim)
        accepted_at_kill = len(load.accepted)
        await asyncio.sleep(OUTAGE_S)
        # The controllers noticed (fenced it, moved its leaders): a real outage.
        assert victim not in await cluster.live_brokers()
        accepted_in_outage = len(load.accepted) - accepted_at_kill
        await cluster.start()
        await sending

        async def all_published() -> bool:
            done = await cluster_db.fetchval(
                "SELECT count(*) FROM queue_items WHERE org_id = $1 AND status = 'published'",
                ORG,
            )
            return bool(done >= ITEMS)

        await eventually(all_published, 180, "every item published and projected")
        await asyncio.sleep(1.0)  # a late second post would show up now
        await cluster.wait_in_sync(list(settings.topics.all()))
    finally:
        codes = await fleet.stop()
        await receiver.stop()
    assert codes == [0, 0, 0, 0], fleet.output()

    print(
        f"broker {victim} killed after {accepted_at_kill} accepted; {accepted_in_outage} "
        f"accepted during the {OUTAGE_S:.0f} s outage; retried answers: {dict(load.refusals)}"
    )
    assert 0 < accepted_at_kill < ITEMS
    # Two of three replicas are enough (min.insync.replicas=2): writes went on.
    assert accepted_in_outage > 0
    assert len(load.accepted) == ITEMS
    assert len({a.item_id for a in load.accepted}) == ITEMS

    events = await read_log(settings, settings.topics.events)
    assert_one_outcome_each(events, [a.command_id for a in load.accepted])
    assert_no_forked_history(events)
    enqueued = distinct(events, "queue.ItemEnqueued")
    assert {e.aggregate_id for e in enqueued.values()} == {a.item_id for a in load.accepted}
    assert len(enqueued) == ITEMS
    items = {a.item_id for a in load.accepted}
    posts = Counter(d.payload["data"]["item_id"] for d in receiver.deliveries)
    assert posts == {str(i): 1 for i in items}, "an item posted twice, or not at all"
    per_item = Counter(e.aggregate_id for e in distinct(events, "queue.ItemPublished").values())
    assert per_item == dict.fromkeys(items, 1)
    await assert_read_model_exact(cluster_db, ORG, load.accepted)
    assert await read_log(settings, settings.topics.dlq) == []
    assert await min_insync(cluster, settings.topics.events) == "2"
