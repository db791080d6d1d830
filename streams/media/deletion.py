"""Deleted assets: their file and thumbnail leave the organization's space.

The decider has marked the asset ``deleted`` (AssetDeleted); what is left is the
disk. A clip already cutting from the file keeps reading it (POSIX unlink) and
finishes; a clip that starts after the removal fails with "not found", which is
what a deleted source should give. ``keep_file`` (set by the API when another live
asset names the same file, as identical clips do) leaves the disk alone.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from aiokafka import AIOKafkaProducer

from clipper import MediaRoot
from clipper.store import remove_from
from schemas.base import Message
from schemas.catalog import Topics
from schemas.codec import Decoded
from schemas.events import AssetDeleted
from streams import metrics
from streams.media.agent import EventHandler
from streams.media.jobs import Job, Jobs


class AssetRemover(EventHandler):
    name: ClassVar[str] = "deletions"
    handles: ClassVar[frozenset[str]] = frozenset({AssetDeleted.TYPE})

    def __init__(self, producer: AIOKafkaProducer, topics: Topics, media_root: Path) -> None:
        super().__init__(producer, topics)
        self.media = MediaRoot(media_root)

    async def handle(self, decoded: Decoded[Message], jobs: Jobs, bound: Any) -> None:
        envelope, event = decoded.envelope, decoded.as_(AssetDeleted)
        # Its own job key: the asset's key is the probe's. Once done, a redelivery (a
        # crash before the commit) never removes a file registered again since.
        key = f"{envelope.aggregate_id}/deleted"
        if jobs.get(key).done:
            metrics.AGENT_EVENTS.labels(self.name, "skipped").inc()
            return
        removed = 0
        if event.keep_file:
            bound.info("asset_file_kept", reason="another asset names the same file")
        else:
            space = self.media.space(envelope.org_id)
            for relative in (event.path, event.thumbnail_path):
                if relative is not None and await asyncio.to_thread(remove_from, space, relative):
                    removed += 1
        await jobs.put(key, Job(attempt=1, done=True), bound)
        metrics.AGENT_EVENTS.labels(self.name, "removed" if removed else "nothing").inc()
        bound.info("asset_files_removed", count=removed)
