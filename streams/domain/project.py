"""The project: a named folder for queue items and assets; created once."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from schemas.base import Command, Event
from schemas.commands import CreateProject
from schemas.events import ProjectCreated
from streams.domain.common import CONFLICT, Decision, applied, rejected


class ProjectState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str


def decide(command: Command, state: ProjectState | None, now: datetime) -> Decision:
    match command:
        case CreateProject():
            if state is not None:
                return rejected(CONFLICT, "a project with this id already exists")
            return applied(ProjectCreated(name=command.name))
    raise TypeError(f"not a project command: {command.TYPE}")


def evolve(state: ProjectState | None, event: Event) -> ProjectState:
    match event:
        case ProjectCreated():
            return ProjectState(name=event.name)
    raise ValueError(f"{event.TYPE} cannot apply to project state {state!r}")
