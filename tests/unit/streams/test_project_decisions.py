"""The project's pure decide/evolve."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.commands import CreateProject
from schemas.events import ItemCancelled, ProjectCreated
from streams.domain.project import ProjectState, decide, evolve

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_creating_an_absent_project_creates_it() -> None:
    decision = decide(CreateProject(name="Season 2"), None, NOW)
    assert decision.outcome == "applied"
    assert decision.events == (ProjectCreated(name="Season 2"),)


def test_creating_an_existing_project_is_rejected_as_a_conflict() -> None:
    decision = decide(CreateProject(name="Again"), ProjectState(name="Season 2"), NOW)
    assert (decision.outcome, decision.status, decision.events) == ("rejected", 409, ())


def test_evolve_turns_project_created_into_its_state() -> None:
    assert evolve(None, ProjectCreated(name="S2")) == ProjectState(name="S2")


def test_evolve_refuses_events_of_other_aggregates() -> None:
    with pytest.raises(ValueError, match="cannot apply"):
        evolve(None, ItemCancelled(reason=""))
