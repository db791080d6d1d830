"""The audit index (every event once, keyed by its id) and the organizations events name."""

from __future__ import annotations

from typing import Any

from projections.tables import ORGANIZATIONS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.envelope import Envelope


def event_row(env: Envelope) -> tuple[Any, ...]:
    """The audit index row of an event, in ``tables.EVENT_COLUMNS`` order."""
    return (
        env.id,
        env.org_id,
        env.type,
        env.version,
        env.aggregate_type,
        env.aggregate_id,
        env.sequence,
        env.occurred_at,
        env.command_id,
        env.correlation_id,
        env.causation_id,
        env.actor.model_dump(mode="json"),
        env.data,
    )


def organization_seen(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    # first_seen_at only ever moves earlier, so the result does not depend on the
    # order partitions are read in (a rebuild reads them in another interleaving).
    env = decoded.envelope
    if row is None:
        return new_row(ORGANIZATIONS, org_id=env.org_id, first_seen_at=env.occurred_at)
    if row["first_seen_at"] > env.occurred_at:
        return {**row, "first_seen_at": env.occurred_at}
    return row
