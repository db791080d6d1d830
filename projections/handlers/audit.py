"""The audit index (every event once, keyed by its id) and the organizations events name."""

from __future__ import annotations

from typing import Any

from projections.tables import ORGANIZATIONS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.envelope import Actor, Envelope
from schemas.publishing import ConnectionCreated, PublishCheckpointed

# Fields the audit index never holds. Sealed credentials are ciphertext, but copying
# them would put them where crypto-shredding cannot reach (the key table row is the
# one place besides the log); a checkpoint's upload session URI lets anyone holding
# it upload into that session. The log keeps both; GET /v1/audit shows the marker.
REDACTED = "[redacted]"
REDACTED_FIELDS: dict[str, tuple[str, ...]] = {
    ConnectionCreated.TYPE: ("sealed_credentials",),
    PublishCheckpointed.TYPE: ("session",),
}


def audit_data(env: Envelope) -> dict[str, Any]:
    """The event's data as the audit index keeps it (REDACTED_FIELDS replaced)."""
    hidden = REDACTED_FIELDS.get(env.type)
    if hidden is None:
        return env.data
    return {k: REDACTED if k in hidden else v for k, v in env.data.items()}


# Where an event was read: (topic, partition, offset) of its record on the log.
LogPosition = tuple[str, int, int]
_NOWHERE: tuple[None, None, None] = (None, None, None)


def event_row(env: Envelope, at: LogPosition | None = None) -> tuple[Any, ...]:
    """The audit index row of an event, in ``tables.EVENT_COLUMNS`` order.

    ``at`` is the record's place on the log; both writers (the live projector and the
    rebuild's bulk load) keep the first copy of an event id, read in offset order
    within its partition, so a rebuilt model records the same place.
    """
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
        _actor_json(env.actor),
        *(at or _NOWHERE),
        audit_data(env),
    )


# Few distinct actors (users, bots) write most events: their JSON form is made once.
_ACTORS: dict[tuple[str, str], dict[str, Any]] = {}


def _actor_json(actor: Actor) -> dict[str, Any]:
    key = (actor.sub, actor.kind)
    found = _ACTORS.get(key)
    if found is None:
        found = actor.model_dump(mode="json")
        if len(_ACTORS) < 10_000:  # bounded: an unbounded cache of subjects would leak
            _ACTORS[key] = found
    return found


def organization_seen(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    # first_seen_at only ever moves earlier, so the result does not depend on the
    # order partitions are read in (a rebuild reads them in another interleaving).
    env = decoded.envelope
    if row is None:
        return new_row(ORGANIZATIONS, org_id=env.org_id, first_seen_at=env.occurred_at)
    if row["first_seen_at"] > env.occurred_at:
        return {**row, "first_seen_at": env.occurred_at}
    return row
