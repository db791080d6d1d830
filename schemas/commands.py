"""Commands: what clients and agents ask for, named in the imperative."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.base import Command
from schemas.media import ResolvedSource

Platform = Literal["youtube", "tiktok", "x", "instagram", "discord", "twitch", "webhook"]
ClipFormat = Literal["mp4", "mov", "webm", "mkv"]
ClipMode = Literal["fast", "accurate"]
ClipAspect = Literal["source", "9:16", "1:1", "16:9"]
AssetKind = Literal["video", "image", "audio"]

MAX_CLIP_SECONDS = 3600.0


class EnqueueItem(Command):
    TYPE: ClassVar[str] = "queue.EnqueueItem"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    platform: Platform
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=5000)
    project_id: uuid.UUID | None = None
    asset_id: uuid.UUID | None = None
    # None means "when the command was issued": the decider reads the command
    # envelope's occurred_at, so the body (and its fingerprint) stays as sent.
    schedule_at: AwareDatetime | None = None
    timezone: str = Field(default="UTC", max_length=64)
    target: dict[str, Any] = Field(default_factory=dict)
    # The account to publish through (connection aggregate). The API fills
    # ``connection_platform`` from the key table for a connection of the caller's
    # organization (None when there is none); the decider refuses a mismatch.
    connection_id: uuid.UUID | None = None
    connection_platform: Platform | None = None
    # The client's schedule_at exactly as sent (its local text), kept for display.
    schedule_local: str | None = Field(default=None, max_length=64)

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("title must not be blank")
        return value

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value


class CancelItem(Command):
    TYPE: ClassVar[str] = "queue.CancelItem"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    reason: str = Field(default="", max_length=500)


class RescheduleItem(Command):
    TYPE: ClassVar[str] = "queue.RescheduleItem"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    schedule_at: AwareDatetime


class CreateProject(Command):
    TYPE: ClassVar[str] = "project.CreateProject"
    AGGREGATE_TYPE: ClassVar[str] = "project"

    name: str = Field(min_length=1, max_length=200)


class RegisterAsset(Command):
    TYPE: ClassVar[str] = "asset.RegisterAsset"
    AGGREGATE_TYPE: ClassVar[str] = "asset"

    path: str = Field(min_length=1, max_length=1024)
    kind: AssetKind = "video"
    title: str = Field(default="", max_length=200)
    project_id: uuid.UUID | None = None


class DeleteAsset(Command):
    """Removes an asset: its file leaves the organization's space; the row stays, as
    ``deleted``, so clips and audit keep their references."""

    TYPE: ClassVar[str] = "asset.DeleteAsset"
    AGGREGATE_TYPE: ClassVar[str] = "asset"

    # Set by the API when another live asset of the organization names the same file
    # (identical clips share their content-addressed output): then only the row goes.
    keep_file: bool = False


class ClipSource(BaseModel):
    """Where a clip comes from: a registered asset, or a path under the media root."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    asset_id: uuid.UUID | None = None
    path: str | None = Field(default=None, min_length=1, max_length=1024)

    @model_validator(mode="after")
    def _exactly_one(self) -> ClipSource:
        if (self.asset_id is None) == (self.path is None):
            raise ValueError("give exactly one of asset_id or path")
        return self


class RequestClip(Command):
    TYPE: ClassVar[str] = "clip.RequestClip"
    AGGREGATE_TYPE: ClassVar[str] = "clip"

    source: ClipSource
    start: float = Field(ge=0)
    duration: float | None = Field(default=None, gt=0, le=MAX_CLIP_SECONDS)
    end: float | None = Field(default=None, gt=0)
    format: ClipFormat = "mp4"
    mode: ClipMode = "fast"
    aspect: ClipAspect = "source"
    title: str = Field(default="", max_length=200)
    project_id: uuid.UUID | None = None
    # Filled by the API from the read model; a client that sends it is refused.
    resolved_source: ResolvedSource | None = None

    @model_validator(mode="after")
    def _range(self) -> RequestClip:
        if self.duration is None and self.end is None:
            raise ValueError("give duration or end")
        if self.duration is not None and self.end is not None:
            raise ValueError("give duration or end, not both")
        if self.end is not None:
            if self.end <= self.start:
                raise ValueError("end must be after start")
            if self.end - self.start > MAX_CLIP_SECONDS:
                raise ValueError(f"a clip is at most {MAX_CLIP_SECONDS:.0f} s long")
        return self

    @property
    def length(self) -> float:
        return self.duration if self.duration is not None else float(self.end or 0) - self.start
