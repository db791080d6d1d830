"""connections: one row per publishing account, active until deleted.

The sealed credentials on ConnectionCreated are never copied here (nor into the
audit index: handlers/audit.py redacts them); only the publisher, through the
vault's key table, ever reads them.
"""

from __future__ import annotations

from projections.handlers.guard import applies, changed
from projections.tables import CONNECTIONS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.publishing import ConnectionCreated, ConnectionDeleted


def created(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    if row is not None:
        return row
    env, connection = decoded.envelope, decoded.as_(ConnectionCreated)
    return new_row(
        CONNECTIONS,
        id=env.aggregate_id,
        org_id=env.org_id,
        platform=connection.platform,
        name=connection.name,
        status="active",
        created_at=env.occurred_at,
        updated_at=env.occurred_at,
        version=env.sequence,
    )


def deleted(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    decoded.as_(ConnectionDeleted)
    env = decoded.envelope
    if row is None or not applies(row, env):
        return row
    return changed(row, env, status="deleted", deleted_at=env.occurred_at)
