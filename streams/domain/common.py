"""What every aggregate's decide returns: an outcome, its events, and why."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.base import Event
from schemas.events import Outcome

NOT_FOUND = 404
CONFLICT = 409
UNPROCESSABLE = 422


@dataclass(frozen=True)
class Decision:
    """The answer to one command; ``events`` is empty unless the outcome is ``applied``."""

    outcome: Outcome
    events: tuple[Event, ...] = ()
    reason: str | None = None
    status: int | None = None


def applied(*events: Event) -> Decision:
    return Decision("applied", events=events)


def duplicate(reason: str) -> Decision:
    return Decision("duplicate", reason=reason)


def rejected(status: int, reason: str) -> Decision:
    return Decision("rejected", reason=reason, status=status)
