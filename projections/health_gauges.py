"""The status figures as Prometheus gauges, refreshed periodically in the projector process.

The projector already holds what they need (the read model, the broker) and runs
once per deployment, so its /metrics is where a dashboard finds them; the API's
/metrics has the overdue items (wavestack_queue_overdue_items, counted on scrape)
and the projector its own lag (wavestack_projector_lag). A refresh is a handful of
small requests; a failed one keeps the last values and says so in
wavestack_health_refresh_failures_total.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client import Counter, Gauge

from projections import health
from projections.config import ProjectorSettings
from projections.db import connect
from projections.doctor import stuck_commands

log = structlog.get_logger(__name__)

REFRESH_SECONDS = 30.0
STUCK_AFTER = timedelta(seconds=300)  # the doctor's default age

GROUP_LAG = Gauge(
    "wavestack_consumer_group_lag",
    "Records not yet consumed by a consumer group of this prefix that commits to Kafka "
    "(decider <p>-worker, media <p>-media, publisher <p>-publisher), per partition.",
    ["group", "topic", "partition"],
)
DLQ_MESSAGES = Gauge("wavestack_dlq_messages", "Messages on the dead-letter topic <p>.dlq.")
STUCK_COMMANDS = Gauge(
    "wavestack_commands_without_outcome",
    "Commands still pending 300 s after they were requested (see `wavestack doctor`).",
)
REFRESH_FAILURES = Counter(
    "wavestack_health_refresh_failures_total",
    "Refreshes of the health gauges that failed (the gauges keep their last values).",
)


async def refresh(settings: ProjectorSettings) -> None:
    bootstrap, topics = settings.kafka, settings.topics
    lags = await health.group_lags(bootstrap, topics.prefix)
    projector = health.projector_group(topics, settings.db_schema)
    GROUP_LAG.clear()  # a group or partition that went away must not keep its last value
    for lag in lags:
        if lag.group != projector:
            GROUP_LAG.labels(lag.group, lag.topic, str(lag.partition)).set(lag.lag)
    DLQ_MESSAGES.set(await health.dlq_size(bootstrap, topics.dlq))
    conn = await connect(settings.dsn, settings.db_schema, purpose="health-gauges")
    try:
        stuck = await stuck_commands(conn, STUCK_AFTER, datetime.now(UTC))
    finally:
        await conn.close()
    STUCK_COMMANDS.set(len(stuck))


async def run(
    settings: ProjectorSettings, stop: asyncio.Event, interval: float = REFRESH_SECONDS
) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(refresh(settings), timeout=interval)
        except Exception as exc:
            # Whatever the cause, the projector must not be hurt by its side gauges.
            REFRESH_FAILURES.inc()
            log.warning("health gauges not refreshed", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


def start_in_thread(settings: ProjectorSettings, interval: float = REFRESH_SECONDS) -> None:
    """Runs the refresh loop on its own event loop in a daemon thread, beside the
    projector's loop (which it never blocks); it ends with the process."""
    thread = threading.Thread(
        target=lambda: asyncio.run(run(settings, asyncio.Event(), interval)),
        name="health-gauges",
        daemon=True,
    )
    thread.start()
