"""The envelope every command and event travels in (DESIGN.md §7)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

ActorKind = Literal["user", "bot", "service", "system"]


class Actor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sub: str = Field(min_length=1, max_length=255)
    kind: ActorKind = "user"


SYSTEM_ACTOR = Actor(sub="wavestack", kind="system")


class Envelope(BaseModel):
    """Metadata plus ``data``; ``sequence`` is set on events only (per aggregate, from 1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: uuid.UUID
    type: str = Field(pattern=r"^[a-z]+\.[A-Z][A-Za-z]+$")
    version: int = Field(ge=1)
    org_id: str = Field(min_length=1, max_length=255)
    aggregate_type: str
    aggregate_id: uuid.UUID
    sequence: int | None = Field(default=None, ge=1)
    occurred_at: AwareDatetime
    command_id: uuid.UUID
    correlation_id: uuid.UUID
    causation_id: uuid.UUID
    actor: Actor
    data: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)
