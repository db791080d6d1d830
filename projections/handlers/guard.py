"""The version guard every change of an aggregate row passes (architecture.md, projector).

A row carries ``version`` = the sequence of the last event applied to it; a change
applies only to an existing row of the same organization whose version is lower, so
a re-delivered or re-emitted event changes nothing.
"""

from __future__ import annotations

from typing import Any

from projections.tables import Row
from schemas.envelope import Envelope


def applies(row: Row | None, env: Envelope) -> bool:
    return (
        row is not None
        and row["org_id"] == env.org_id
        and env.sequence is not None
        and row["version"] < env.sequence
    )


def changed(row: Row, env: Envelope, **values: Any) -> Row:
    """A copy of ``row`` with ``values``, stamped with the event's time and sequence."""
    return {**row, **values, "updated_at": env.occurred_at, "version": env.sequence}
