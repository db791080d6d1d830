"""The integration: a bot binding of an organization, active until revoked or deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.base import Command, Event
from schemas.integrations import (
    CreateIntegration,
    DeleteIntegration,
    IntegrationCreated,
    IntegrationDeleted,
    IntegrationPlatform,
    IntegrationRevoked,
    RevokeIntegration,
)
from streams.domain.common import (
    CONFLICT,
    NOT_FOUND,
    UNPROCESSABLE,
    Decision,
    applied,
    duplicate,
    rejected,
)

IntegrationStatus = Literal["active", "revoked", "deleted"]


class IntegrationState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    status: IntegrationStatus
    platform: IntegrationPlatform


def _incomplete(command: CreateIntegration) -> str | None:
    """What a platform's binding lacks (the API checks the same; this guards the log)."""
    if command.platform == "discord":
        if command.application_id is None or command.public_key is None:
            return "a discord integration needs application_id and public_key"
    elif command.broadcaster_user_id is None or command.key_id is None:
        return "a twitch integration needs broadcaster_user_id and a sealed secret"
    elif (command.recording_project_id is None) == (command.recording_asset_id is None):
        return "a twitch integration needs exactly one of recording project_id or asset_id"
    return None


def decide(command: Command, state: IntegrationState | None, now: datetime) -> Decision:
    match command:
        case CreateIntegration():
            if state is not None:
                return rejected(CONFLICT, "an integration with this id already exists")
            missing = _incomplete(command)
            if missing is not None:
                return rejected(UNPROCESSABLE, missing)
            return applied(IntegrationCreated(**command.model_dump()))
        case RevokeIntegration():
            if state is None:
                return rejected(NOT_FOUND, "integration not found")
            if state.status != "active":
                return duplicate(f"the integration is already {state.status}")
            return applied(IntegrationRevoked(reason=command.reason))
        case DeleteIntegration():
            if state is None:
                return rejected(NOT_FOUND, "integration not found")
            if state.status == "deleted":
                return duplicate("the integration is already deleted")
            return applied(IntegrationDeleted())
    raise TypeError(f"not an integration command: {command.TYPE}")


def evolve(state: IntegrationState | None, event: Event) -> IntegrationState:
    match event:
        case IntegrationCreated():
            return IntegrationState(status="active", platform=event.platform)
        case IntegrationRevoked() if state is not None:
            return state.model_copy(update={"status": "revoked"})
        case IntegrationDeleted() if state is not None:
            return state.model_copy(update={"status": "deleted"})
    raise ValueError(f"{event.TYPE} cannot apply to integration state {state!r}")
