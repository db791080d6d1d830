"""The media app's Faust app: asset probing and clipping on the events topic, own group.

Its own consumer group (``<prefix>-media``), apart from the decider's: a clip that
runs for minutes never delays a decision, and media work scales with media
processes. One agent at concurrency 1 (faust #606, and streams/media/agent.py for
why not one agent per handler): one media process probes or cuts one thing at a
time, in log order per partition.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import faust

from clipper import ClipLimits, ClipRunner, ClipSettings
from schemas.catalog import Topics
from streams.media.agent import AGENT, EventAgent
from streams.media.assets import AssetProber
from streams.media.clipping import ClipHandler
from streams.media.jobs import Jobs
from streams.media.sweeper import sweep, sweep_interval
from streams.runtime.app import StreamsSettings, create_streams_app, json_table, raw_topic

ROLE = "media"
# How long a clip may keep its agent from taking the next event beyond the clip
# timeout itself: hashing a large source (outside the clipper's timeout), probing,
# and sending the results.
CLIP_MARGIN_SECONDS = 300.0


class MediaSettings(StreamsSettings, ClipSettings, Protocol):
    @property
    def media_root(self) -> Path: ...


def create_app(settings: MediaSettings, *, web: bool = False) -> faust.App:
    topics = Topics(settings.topic_prefix)
    busy = settings.clip_timeout_seconds + CLIP_MARGIN_SECONDS
    app = create_streams_app(settings, ROLE, busy_seconds=busy, web=web)
    # A running clip would hold faust's shutdown for up to its timeout.
    app.stop_first = (AGENT,)
    table = json_table(
        app,
        "media_jobs",
        settings.topic_partitions,
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
    app.agent(raw_topic(app, topics.events), name=AGENT, concurrency=1)(agent.run)

    timeout = settings.clip_timeout_seconds

    async def sweep_temp_files() -> None:
        await sweep(media_root, timeout)

    app.task(sweep_temp_files)  # once at start: a crash's leftovers go first
    app.timer(sweep_interval(timeout), name="temp-file-sweeper")(sweep_temp_files)
    return app
