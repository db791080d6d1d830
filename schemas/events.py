"""Events: facts on the log, named in the past tense. Never changed once published."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, Field

from schemas.base import Event
from schemas.commands import Platform

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


class ItemCancelled(Event):
    TYPE: ClassVar[str] = "queue.ItemCancelled"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    reason: str


class ItemRescheduled(Event):
    TYPE: ClassVar[str] = "queue.ItemRescheduled"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    schedule_at: AwareDatetime


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
