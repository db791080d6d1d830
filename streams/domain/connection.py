"""The connection: a platform account whose sealed credentials the publisher uses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.base import Command, Event
from schemas.commands import Platform
from schemas.publishing import (
    ConnectionCreated,
    ConnectionDeleted,
    CreateConnection,
    DeleteConnection,
)
from streams.domain.common import CONFLICT, NOT_FOUND, Decision, applied, duplicate, rejected

ConnectionStatus = Literal["active", "deleted"]


class ConnectionState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    status: ConnectionStatus
    platform: Platform


def decide(command: Command, state: ConnectionState | None, now: datetime) -> Decision:
    match command:
        case CreateConnection():
            if state is not None:
                return rejected(CONFLICT, "a connection with this id already exists")
            return applied(
                ConnectionCreated(
                    platform=command.platform,
                    name=command.name,
                    sealed_credentials=command.sealed_credentials,
                    key_id=command.key_id,
                )
            )
        case DeleteConnection():
            if state is None:
                return rejected(NOT_FOUND, "connection not found")
            if state.status == "deleted":
                return duplicate("the connection is already deleted")
            return applied(ConnectionDeleted())
    raise TypeError(f"not a connection command: {command.TYPE}")


def evolve(state: ConnectionState | None, event: Event) -> ConnectionState:
    match event:
        case ConnectionCreated():
            return ConnectionState(status="active", platform=event.platform)
        case ConnectionDeleted() if state is not None:
            return state.model_copy(update={"status": "deleted"})
    raise ValueError(f"{event.TYPE} cannot apply to connection state {state!r}")
