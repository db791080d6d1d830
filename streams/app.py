"""The worker's composition root: the Faust app, its topics, table and agents."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import faust
from faust.transport.drivers.aiokafka import Producer
from faust.types import TableT, TopicT

from clipper import ClipLimits, ClipRunner, ClipSettings
from schemas.catalog import Topics
from streams.agent import Decider
from streams.agents.assets import AssetProber
from streams.agents.base import AGENT as MEDIA_AGENT
from streams.agents.base import EventAgent
from streams.agents.clipping import ClipHandler
from streams.agents.jobs import Jobs
from streams.agents.sweeper import sweep, sweep_interval

# How long a clip may keep its agent from taking the next event beyond the clip
# timeout itself: hashing a large source (outside the clipper's timeout), probing,
# and sending the results.
CLIP_MARGIN_SECONDS = 300.0


class WorkerSettings(ClipSettings, Protocol):
    """What the worker reads from ``wavestack.settings.Settings`` (kept local: layering)."""

    @property
    def kafka_bootstrap(self) -> str: ...
    @property
    def topic_prefix(self) -> str: ...
    @property
    def topic_partitions(self) -> int: ...
    @property
    def topic_replication_factor(self) -> int: ...
    @property
    def worker_data_dir(self) -> Path: ...
    @property
    def worker_web_port(self) -> int: ...
    @property
    def media_root(self) -> Path: ...


class IdempotentProducer(Producer):
    """faust turns on producer idempotence only with exactly_once; we want it always.

    With acks=all and idempotence, the broker drops a retried batch it already has,
    so an internal retry of aiokafka never writes a message twice or out of order.
    """

    def _settings_extra(self) -> dict[str, Any]:
        return {"acks": "all", "enable_idempotence": True}


class WorkerApp(faust.App):
    def _new_producer(self) -> Producer:
        return IdempotentProducer(self.transport, loop=self.loop, beacon=self.beacon)

    async def on_stop(self) -> None:
        """Stops the media agent before faust waits for every started message to be acked.

        Otherwise a running clip would hold the shutdown for up to its timeout.
        Cancelling it stops ffmpeg and removes its temp files (the clipper does
        both); its event stays unacked, so the clip runs again after a restart.
        """
        media = self.agents.get(MEDIA_AGENT)
        if media is not None:
            await media.stop()
        await super().on_stop()


def create_app(
    settings: WorkerSettings, *, web: bool = False, session_timeout: float = 30.0
) -> faust.App:
    """One Faust app per topic prefix: its group id and changelog topics follow the prefix.

    ``session_timeout`` bounds how long a crashed worker holds its partitions before
    the group hands them to the next one.
    """
    topics = Topics(settings.topic_prefix)
    # A clip holds its event for up to this long. aiokafka leaves the group when
    # faust's fetcher stops polling for max_poll_interval (it does while a stream
    # buffer is full), and faust logs "slow processing" errors past the other two.
    busy = settings.clip_timeout_seconds + CLIP_MARGIN_SECONDS
    app = WorkerApp(
        f"{settings.topic_prefix}-worker",
        broker=[f"kafka://{host.strip()}" for host in settings.kafka_bootstrap.split(",")],
        # At-least-once plus deterministic ids; exactly_once is not trusted (DESIGN §10).
        processing_guarantee="at_least_once",
        producer_acks=-1,
        # As large as the API's producer allows a command; faust's default is smaller,
        # which would refuse the events of a command Kafka already accepted.
        producer_max_request_size=1024 * 1024,
        # Memory is enough: the table is rebuilt from its changelog topic on start.
        store="memory://",
        datadir=str(settings.worker_data_dir),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        # Produce when we say so: our sends are awaited inside the agent.
        stream_publish_on_commit=False,
        broker_session_timeout=session_timeout,
        broker_heartbeat_interval=max(session_timeout / 10, 0.5),
        broker_rebalance_timeout=session_timeout,
        broker_max_poll_interval=busy,
        stream_processing_timeout=busy,
        broker_commit_livelock_soft_timeout=busy,
        web_enabled=web,
        web_port=settings.worker_web_port,
        web_host="127.0.0.1",
        key_serializer="raw",
        value_serializer="raw",
    )
    commands = _raw_topic(app, topics.commands)
    table = _json_table(
        app,
        settings,
        "aggregates",
        "Aggregate id -> folded state, last sequence and recent decisions.",
    )
    positions = _json_table(
        app,
        settings,
        "positions",
        "Commands partition -> next offset the decider expects (gap repair).",
    )
    decider = Decider(app, table, topics, positions, settings.kafka_bootstrap)
    # concurrency 1: a second actor could commit past an unfinished message (faust #606).
    app.agent(commands, name="decider", concurrency=1)(decider.run)
    _add_media_agents(app, settings, topics)
    return app


def _raw_topic(app: faust.App, name: str) -> TopicT:
    """One of our topics, read as bytes: the agents decode (and dead-letter) themselves."""
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        internal=False,
    )


def _json_table(
    app: faust.App, settings: WorkerSettings, name: str, description: str
) -> TableT[Any, Any]:
    """A table keyed by an aggregate id (str), as many partitions as the topics."""
    return app.Table(
        name,
        partitions=settings.topic_partitions,
        # No model types: keys and values travel as JSON (str, dict) both ways.
        key_type=str,
        help=description,
    )


def _add_media_agents(app: faust.App, settings: WorkerSettings, topics: Topics) -> None:
    """The agent on the events topic (asset probing, clipping) and the temp-file sweeper.

    One agent at concurrency 1 (faust #606, and see streams/agents/base.py for why
    not one agent per handler): one worker process probes or cuts one thing at a
    time, in log order per partition. More clips at once means more partitions and
    more worker processes.
    """
    events = _raw_topic(app, topics.events)
    table = _json_table(
        app,
        settings,
        "media_jobs",
        "Asset or clip id -> the media agent's attempts and whether it is done.",
    )
    jobs = Jobs(table)
    limits = ClipLimits.from_settings(settings)
    media_root = Path(settings.media_root)
    handlers = [
        AssetProber(app, topics, jobs, media_root, limits),
        ClipHandler(app, topics, jobs, ClipRunner(media_root, limits)),
    ]
    agent = EventAgent(app, topics, handlers)
    app.agent(events, name=MEDIA_AGENT, concurrency=1)(agent.run)

    timeout = settings.clip_timeout_seconds

    async def sweep_temp_files() -> None:
        await sweep(media_root, timeout)

    app.task(sweep_temp_files)  # once at start: a crash's leftovers go first
    app.timer(sweep_interval(timeout), name="temp-file-sweeper")(sweep_temp_files)
