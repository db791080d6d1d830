"""Value objects shared by asset and clip messages: what a probe found, a clip's lineage."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class StreamInfo(Value):
    index: int = Field(ge=0)
    type: Literal["video", "audio", "subtitle", "data", "attachment", "unknown"]
    codec: str
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    sample_rate: int | None = None
    channels: int | None = None


class MediaInfo(Value):
    """What ffprobe (and a sha256 pass) found in a file under the media root."""

    container: str
    duration_s: float | None = Field(default=None, ge=0)
    width: int | None = Field(default=None, ge=0)
    height: int | None = Field(default=None, ge=0)
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    streams: list[StreamInfo] = Field(default_factory=list)


class ResolvedSource(Value):
    """A clip source as the API resolved it from the read model (never sent by clients).

    An asset's path and digest never change once registered, so resolving is a pure
    function of the request: a retry resolves to the same value and keeps the same
    fingerprint.
    """

    asset_id: uuid.UUID | None = None
    path: str = Field(min_length=1, max_length=1024)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class ClipLineage(Value):
    """Everything needed to regenerate a clip exactly."""

    source_asset_id: uuid.UUID | None
    source_path: str
    source_sha256: str
    start_s: float
    duration_s: float
    mode: Literal["fast", "accurate"]
    aspect: Literal["source", "9:16", "1:1", "16:9"]
    format: Literal["mp4", "mov", "webm", "mkv"]
    ffmpeg_version: str
