"""Events: facts on the log, named in the past tense. Never changed once published."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, Field

from schemas.base import Event
from schemas.commands import AssetKind, ClipAspect, ClipFormat, ClipMode, Platform
from schemas.media import ClipLineage, MediaInfo, ResolvedSource

Outcome = Literal["applied", "duplicate", "rejected"]


class ItemEnqueued(Event):
    TYPE: ClassVar[str] = "queue.ItemEnqueued"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    platform: Platform
    title: str
    description: str
    project_id: uuid.UUID | None
    asset_id: uuid.UUID | None
    schedule_at: AwareDatetime
    timezone: str
    target: dict[str, Any]
    connection_id: uuid.UUID | None = None
    schedule_local: str | None = None


class ItemCancelled(Event):
    TYPE: ClassVar[str] = "queue.ItemCancelled"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    reason: str


class ItemRescheduled(Event):
    TYPE: ClassVar[str] = "queue.ItemRescheduled"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    schedule_at: AwareDatetime
    # Why, when the system moved it (a platform quota's reset); None: the client asked.
    reason: str | None = None


class ProjectCreated(Event):
    TYPE: ClassVar[str] = "project.ProjectCreated"
    AGGREGATE_TYPE: ClassVar[str] = "project"

    name: str


class CommandOutcomeRecorded(Event):
    """How a command ended. Exactly one per command id; its aggregate is the command."""

    TYPE: ClassVar[str] = "command.CommandOutcomeRecorded"
    AGGREGATE_TYPE: ClassVar[str] = "command"

    command_type: str
    outcome: Outcome
    target_aggregate_type: str
    target_aggregate_id: uuid.UUID
    fingerprint: str
    reason: str | None = None
    # Errors a client can act on: the same shape as the API's problem+json ``errors``.
    status: int | None = Field(default=None, ge=400, le=599)
    event_ids: list[uuid.UUID] = Field(default_factory=list)


class CommandConflictRejected(Event):
    """Refuses another body under an already decided command id (a reused idempotency key)."""

    # The command's one outcome stays the first body's; this is the later request's
    # answer. Its aggregate is that request: derived_id(command_id, "conflict:<fingerprint>").
    TYPE: ClassVar[str] = "command.CommandConflictRejected"
    AGGREGATE_TYPE: ClassVar[str] = "command"

    command_id: uuid.UUID
    command_type: str
    fingerprint: str
    decided_fingerprint: str
    target_aggregate_type: str
    target_aggregate_id: uuid.UUID
    reason: str
    status: int = Field(default=422, ge=400, le=599)


class AssetRegistrationRequested(Event):
    """A file under the media root was named as an asset; the worker probes it next."""

    TYPE: ClassVar[str] = "asset.AssetRegistrationRequested"
    AGGREGATE_TYPE: ClassVar[str] = "asset"

    path: str
    kind: AssetKind
    title: str
    project_id: uuid.UUID | None = None


class AssetRegistered(Event):
    """A probed, verified media file. Clips register their output with ``lineage``."""

    TYPE: ClassVar[str] = "asset.AssetRegistered"
    AGGREGATE_TYPE: ClassVar[str] = "asset"

    path: str
    kind: AssetKind
    title: str
    project_id: uuid.UUID | None = None
    media: MediaInfo
    thumbnail_path: str | None = None
    lineage: ClipLineage | None = None
    source_clip_id: uuid.UUID | None = None


class AssetRegistrationFailed(Event):
    TYPE: ClassVar[str] = "asset.AssetRegistrationFailed"
    AGGREGATE_TYPE: ClassVar[str] = "asset"

    code: str
    reason: str


class AssetDeleted(Event):
    """The asset is gone; the media process removes ``path`` and the thumbnail from
    the organization's space, unless ``keep_file`` (another asset names them too)."""

    TYPE: ClassVar[str] = "asset.AssetDeleted"
    AGGREGATE_TYPE: ClassVar[str] = "asset"

    path: str
    thumbnail_path: str | None = None
    keep_file: bool = False


class ClipRequested(Event):
    TYPE: ClassVar[str] = "clip.ClipRequested"
    AGGREGATE_TYPE: ClassVar[str] = "clip"

    source: ResolvedSource
    start_s: float
    duration_s: float
    format: ClipFormat
    mode: ClipMode
    aspect: ClipAspect
    title: str
    project_id: uuid.UUID | None = None


class ClipStarted(Event):
    TYPE: ClassVar[str] = "clip.ClipStarted"
    AGGREGATE_TYPE: ClassVar[str] = "clip"

    attempt: int


class ClipProgressed(Event):
    TYPE: ClassVar[str] = "clip.ClipProgressed"
    AGGREGATE_TYPE: ClassVar[str] = "clip"

    attempt: int
    progress: float


class ClipCompleted(Event):
    TYPE: ClassVar[str] = "clip.ClipCompleted"
    AGGREGATE_TYPE: ClassVar[str] = "clip"

    output_asset_id: uuid.UUID
    path: str
    thumbnail_path: str | None = None
    media: MediaInfo
    actual_start_s: float
    start_offset_s: float
    lineage: ClipLineage


class ClipFailed(Event):
    TYPE: ClassVar[str] = "clip.ClipFailed"
    AGGREGATE_TYPE: ClassVar[str] = "clip"

    code: str
    reason: str
