"""Commands the worker's agents send back to the decider (never accepted over HTTP).

Agents do the slow I/O (probing, ffmpeg) and report results as commands, so the
decider stays the single writer of every aggregate's events and sequences. Their
command ids are derived (``schemas.ids.derived_id``) so a re-run reports the same id.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import Field

from schemas.base import Command
from schemas.commands import AssetKind
from schemas.media import ClipLineage, MediaInfo

# Failure reasons are for people: long enough for ffmpeg's last words, no longer.
MAX_REASON_CHARS = 2000


class RecordAssetProbe(Command):
    TYPE: ClassVar[str] = "asset.RecordAssetProbe"
    AGGREGATE_TYPE: ClassVar[str] = "asset"

    media: MediaInfo
    # A video's still, made by the prober in the organization's space (None: none made).
    thumbnail_path: str | None = None


class FailAssetRegistration(Command):
    TYPE: ClassVar[str] = "asset.FailAssetRegistration"
    AGGREGATE_TYPE: ClassVar[str] = "asset"

    code: str
    reason: str = Field(max_length=MAX_REASON_CHARS)


class StartClip(Command):
    TYPE: ClassVar[str] = "clip.StartClip"
    AGGREGATE_TYPE: ClassVar[str] = "clip"

    attempt: int = Field(ge=1)


class RecordClipProgress(Command):
    TYPE: ClassVar[str] = "clip.RecordClipProgress"
    AGGREGATE_TYPE: ClassVar[str] = "clip"

    attempt: int = Field(ge=1)
    progress: float = Field(ge=0, le=1)


class CompleteClip(Command):
    TYPE: ClassVar[str] = "clip.CompleteClip"
    AGGREGATE_TYPE: ClassVar[str] = "clip"

    output_asset_id: uuid.UUID
    path: str
    thumbnail_path: str | None = None
    media: MediaInfo
    actual_start_s: float = Field(ge=0)
    start_offset_s: float
    lineage: ClipLineage


class FailClip(Command):
    TYPE: ClassVar[str] = "clip.FailClip"
    AGGREGATE_TYPE: ClassVar[str] = "clip"

    code: str
    reason: str = Field(max_length=MAX_REASON_CHARS)


class RegisterClipOutput(Command):
    """Registers a finished clip's file as an asset (aggregate: the output asset id).

    Sent before ``CompleteClip`` so a clip is never ``succeeded`` without its asset.
    """

    TYPE: ClassVar[str] = "asset.RegisterClipOutput"
    AGGREGATE_TYPE: ClassVar[str] = "asset"

    clip_id: uuid.UUID
    path: str
    kind: AssetKind
    title: str = Field(default="", max_length=200)
    project_id: uuid.UUID | None = None
    media: MediaInfo
    thumbnail_path: str | None = None
    lineage: ClipLineage
