"""integrations: one row per bot binding, active → revoked (by the platform) → deleted."""

from __future__ import annotations

from projections.handlers.guard import applies, changed
from projections.tables import INTEGRATIONS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.integrations import IntegrationCreated, IntegrationDeleted, IntegrationRevoked


def created(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    if row is not None:
        return row
    env, made = decoded.envelope, decoded.as_(IntegrationCreated)
    return new_row(
        INTEGRATIONS,
        id=env.aggregate_id,
        org_id=env.org_id,
        platform=made.platform,
        name=made.name,
        scopes=list(made.scopes),
        application_id=made.application_id,
        public_key=made.public_key,
        broadcaster_user_id=made.broadcaster_user_id,
        recording_project_id=made.recording_project_id,
        recording_asset_id=made.recording_asset_id,
        status="active",
        created_at=env.occurred_at,
        updated_at=env.occurred_at,
        version=env.sequence,
    )


def revoked(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    revocation = decoded.as_(IntegrationRevoked)
    env = decoded.envelope
    if row is None or not applies(row, env):
        return row
    return changed(row, env, status="revoked", revoked_reason=revocation.reason)


def deleted(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    decoded.as_(IntegrationDeleted)
    env = decoded.envelope
    if row is None or not applies(row, env):
        return row
    return changed(row, env, status="deleted", deleted_at=env.occurred_at)
