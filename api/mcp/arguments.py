"""The tools' arguments: pydantic models, whose JSON Schemas are the tools' input schemas."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.commands import ClipAspect, ClipFormat, ClipMode, Platform

KEY_HELP = (
    "Optional Idempotency-Key (1-255 visible ASCII). Omitted: derived from the "
    "arguments, so a retried call is the same command; give a new key to do the "
    "same thing twice on purpose."
)


class Arguments(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def command_body(self) -> dict[str, Any]:
        """The fields for the API body: what was given, without the key."""
        return self.model_dump(mode="json", exclude_none=True, exclude={"idempotency_key"})


class QueuePost(Arguments):
    platform: Platform
    title: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=5000)
    schedule_at: AwareDatetime | None = Field(
        default=None, description="RFC 3339 with an offset; omitted: now"
    )
    timezone: str | None = Field(default=None, description="IANA zone, e.g. Europe/Paris")
    connection_id: uuid.UUID | None = Field(default=None, description="account to publish through")
    asset_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    idempotency_key: str | None = Field(default=None, description=KEY_HELP)


class RequestClip(Arguments):
    asset_id: uuid.UUID | None = Field(default=None, description="the source asset")
    path: str | None = Field(default=None, description="or a file of the media space")
    start: float = Field(ge=0, description="seconds into the source")
    duration: float | None = Field(default=None, gt=0, le=3600)
    end: float | None = Field(default=None, gt=0)
    format: ClipFormat | None = None
    mode: ClipMode | None = None
    aspect: ClipAspect | None = None
    title: str | None = Field(default=None, max_length=200)
    idempotency_key: str | None = Field(default=None, description=KEY_HELP)

    def command_body(self) -> dict[str, Any]:
        body = super().command_body()
        asset_id, path = body.pop("asset_id", None), body.pop("path", None)
        body["source"] = {"asset_id": asset_id} if asset_id is not None else {"path": path}
        return body


class ItemStatus(Arguments):
    item_id: uuid.UUID


class ClipStatus(Arguments):
    clip_id: uuid.UUID


class RecentPosts(Arguments):
    limit: int = Field(default=10, ge=1, le=50)
    platform: Platform | None = None
