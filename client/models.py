"""What the API answers, as typed models.

Requests are built from the `schemas/` command models (the server validates the same
ones); answers are the read model's DTOs, which live in the API, so they are mirrored
here. Unknown fields are ignored, so a newer server never breaks an older client.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["pending", "applied", "duplicate", "rejected"]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Accepted(Model):
    """A command's 202: the aggregate it concerns and the command to wait for."""

    id: uuid.UUID
    command_id: uuid.UUID
    status: str
    location: str | None = None


class CommandOutcome(Model):
    command_id: uuid.UUID
    type: str
    aggregate_type: str
    aggregate_id: uuid.UUID
    outcome: Outcome
    reason: str | None = None
    status: int | None = None
    event_ids: list[uuid.UUID] = Field(default_factory=list)
    requested_at: datetime
    decided_at: datetime | None = None

    @property
    def final(self) -> bool:
        return self.outcome != "pending"

    @property
    def ok(self) -> bool:
        """Applied, or a duplicate of one that was (a retried command)."""
        return self.outcome in ("applied", "duplicate")


class QueueItem(Model):
    id: uuid.UUID
    project_id: uuid.UUID | None = None
    asset_id: uuid.UUID | None = None
    platform: str
    title: str
    description: str = ""
    status: str
    schedule_at: datetime
    timezone: str = "UTC"
    target: dict[str, Any] = Field(default_factory=dict)
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    post_id: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime
    version: int
    connection_id: uuid.UUID | None = None
    schedule_local: str | None = None
    reason: str | None = None
    error_class: str | None = None
    connection_broken: bool | None = None
    due_at: datetime | None = None


class Post(Model):
    id: uuid.UUID
    queue_item_id: uuid.UUID
    attempt: int
    platform: str
    platform_post_id: str
    url: str | None = None
    published_at: datetime
    version: int


class Attempt(Model):
    attempt: int
    attempt_id: str
    adapter: str
    outcome: str
    started_at: datetime
    finished_at: datetime | None = None
    error_class: str | None = None
    platform_status: int | None = None
    summary: str | None = None
    next_attempt_at: datetime | None = None
    platform_post_id: str | None = None


class QueueItemDetail(QueueItem):
    attempt_history: list[Attempt] = Field(default_factory=list)
    post: Post | None = None


class Asset(Model):
    id: uuid.UUID
    project_id: uuid.UUID | None = None
    path: str
    kind: str
    title: str = ""
    container: str | None = None
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    lineage: dict[str, Any] | None = None
    status: str
    error: str | None = None
    error_code: str | None = None
    source_clip_id: uuid.UUID | None = None
    created_at: datetime
    updated_at: datetime
    version: int


class Clip(Model):
    id: uuid.UUID
    project_id: uuid.UUID | None = None
    source_asset_id: uuid.UUID | None = None
    source_path: str | None = None
    start_s: float
    duration_s: float
    format: str
    mode: str
    aspect: str
    title: str = ""
    status: str
    attempt: int = 0
    progress: float = 0.0
    output_asset_id: uuid.UUID | None = None
    actual_start_s: float | None = None
    error: str | None = None
    error_code: str | None = None
    lineage: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    version: int


class Project(Model):
    id: uuid.UUID
    name: str
    created_at: datetime
    updated_at: datetime
    version: int


class Connection(Model):
    id: uuid.UUID
    platform: str
    name: str
    status: str
    created_at: datetime
    deleted_at: datetime | None = None
    updated_at: datetime
    version: int


class AuditEvent(Model):
    id: uuid.UUID
    type: str
    version: int
    aggregate_type: str
    aggregate_id: uuid.UUID
    sequence: int
    occurred_at: datetime
    command_id: uuid.UUID
    correlation_id: uuid.UUID
    causation_id: uuid.UUID
    actor: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)
    position: int


class Usage(Model):
    bytes_stored: int
    bytes_reserved: int
    quota_bytes: int | None = None
    assets: int
    clips: int
    open_uploads: int


class Uploaded(Model):
    """A finished upload: the asset it registers (poll it until ``registered``)."""

    url: str
    asset_id: uuid.UUID
    command_id: uuid.UUID
    size: int
