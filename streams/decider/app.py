"""The decider's Faust app: the commands topic, its two tables, the deciding agent."""

from __future__ import annotations

from typing import Any

import faust

from schemas.catalog import Topics
from streams.decider.agent import Decider
from streams.runtime.app import StreamsSettings, create_streams_app, json_table, raw_topic

ROLE = "decider"
AGENT = "decider"
# A decision takes milliseconds; this only bounds a stalled produce.
BUSY_SECONDS = 300.0


def create_app(settings: StreamsSettings, *, web: bool = False) -> faust.App:
    """The deciding agent on the commands topic, concurrency 1 (faust #606).

    Its consumer group (and so its tables' changelog topics) is ``<prefix>-worker``,
    the name it had when it was the worker's only app: renaming it would orphan the
    aggregates table of an existing deployment.
    """
    topics = Topics(settings.topic_prefix)
    app = create_streams_app(
        settings, ROLE, busy_seconds=BUSY_SECONDS, web=web, app_id=f"{settings.topic_prefix}-worker"
    )
    partitions = settings.topic_partitions
    aggregates = json_table(
        app, "aggregates", partitions, "Aggregate id -> folded state, last sequence, decisions."
    )
    positions = json_table(
        app, "positions", partitions, "Commands partition -> next offset the decider expects."
    )
    decider = Decider(app, aggregates, topics, positions, settings.kafka_bootstrap)

    def forget_parsed_records(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        decider.on_rebalance()

    app.on_partitions_revoked.connect(forget_parsed_records)
    app.on_partitions_assigned.connect(forget_parsed_records)

    app.agent(raw_topic(app, topics.commands), name=AGENT, concurrency=1)(decider.run)
    return app
