"""Asset registration: probe the file named, report what it is or why it cannot be one."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, ClassVar

import structlog
from aiokafka import AIOKafkaProducer

from clipper import ClipLimits, MediaError, MediaRoot, Probe, probe
from clipper.still import make_source_thumbnail
from schemas.agent_commands import MAX_REASON_CHARS, FailAssetRegistration, RecordAssetProbe
from schemas.base import Message
from schemas.catalog import Topics
from schemas.codec import Decoded
from schemas.events import AssetRegistrationRequested
from schemas.ids import derived_id
from streams import metrics
from streams.media.agent import EventHandler, command_for
from streams.media.jobs import Job, Jobs
from streams.media.lineage import media_info
from streams.media.sources import KnownSources

Report = RecordAssetProbe | FailAssetRegistration

log = structlog.get_logger("streams.media.assets")


class AssetProber(EventHandler):
    name: ClassVar[str] = "assets"
    handles: ClassVar[frozenset[str]] = frozenset({AssetRegistrationRequested.TYPE})

    def __init__(
        self,
        producer: AIOKafkaProducer,
        topics: Topics,
        media_root: Path,
        limits: ClipLimits,
        *,
        known: KnownSources | None = None,
    ) -> None:
        super().__init__(producer, topics)
        self.media = MediaRoot(media_root)
        self.limits = limits
        self.known = known or KnownSources()

    async def handle(self, decoded: Decoded[Message], jobs: Jobs, bound: Any) -> None:
        envelope, event = decoded.envelope, decoded.as_(AssetRegistrationRequested)
        asset_id = envelope.aggregate_id
        key = str(asset_id)
        if jobs.get(key).done:
            # A client retry re-sends the stored event: no need to hash the file again.
            bound.info("asset_already_probed")
            metrics.AGENT_EVENTS.labels(self.name, "skipped").inc()
            return
        # The path is relative to the organization's own space (docs/clipping.md), and
        # so is the thumbnail of a video.
        space = self.media.space(envelope.org_id)
        report = await examine(space, self.limits, event, thumbnail_for=asset_id, known=self.known)
        # One probe result per asset: a re-probe after a crash repeats this command id.
        command = command_for(envelope, report, derived_id(asset_id, "probe"), asset_id)
        await self.send([command], bound)
        await jobs.put(key, Job(attempt=1, done=True), bound)
        result = "probed" if isinstance(report, RecordAssetProbe) else "refused"
        metrics.AGENT_EVENTS.labels(self.name, result).inc()
        if isinstance(report, FailAssetRegistration):
            bound.info("asset_refused", code=report.code, reason=report.reason)
        else:
            bound.info("asset_probed", size=report.media.size_bytes)


async def examine(
    media: MediaRoot,
    limits: ClipLimits,
    event: AssetRegistrationRequested,
    *,
    thumbnail_for: uuid.UUID | None = None,
    known: KnownSources | None = None,
) -> Report:
    """What the file is, or a reason the user can act on (never a path of this machine).

    A video also gets the thumbnail of the asset ``thumbnail_for`` (when given).
    """
    try:
        path = media.resolve(event.path)
        # Remembered by ``known``: the first clip of the asset need not hash it again.
        if known is None:
            found = await probe(path, limits, label=event.path)
        else:
            found = await known.probe(path, limits, label=event.path)
    except MediaError as exc:
        if not exc.user_fault:  # ffprobe missing or broken: the operator must know
            log.error("probe_failed", code=exc.code, error=exc.message, path=event.path)
        return _refused(exc.code, exc.message)
    except OSError as exc:  # e.g. no permission to read it
        return _refused("unreadable", f"{event.path!r} cannot be read: {exc.strerror}")
    if found.kind != event.kind:
        # Clips, thumbnails and publishing all trust the kind: it must be the file's.
        return _refused(
            "kind_mismatch",
            f"{event.path!r} is {_a(found.kind)} file, not {_a(event.kind)}; "
            f"register it with kind={found.kind}",
        )
    thumbnail = None
    if thumbnail_for is not None and found.kind == "video":
        thumbnail = await _thumbnail(media, limits, found, thumbnail_for, event.path)
    return RecordAssetProbe(media=media_info(found), thumbnail_path=thumbnail)


async def _thumbnail(
    media: MediaRoot, limits: ClipLimits, found: Probe, asset_id: uuid.UUID, name: str
) -> str | None:
    """The video's thumbnail, or None when it cannot be made: the file is still a good
    source, and a missing still is no reason to refuse it (the route answers 404)."""
    try:
        return await make_source_thumbnail(media, found, asset_id, limits)
    except (MediaError, OSError) as exc:
        log.warning("source_thumbnail_failed", path=name, error=str(exc))
        return None


def _refused(code: str, reason: str) -> FailAssetRegistration:
    return FailAssetRegistration(code=code, reason=reason[:MAX_REASON_CHARS])


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
