"""projects: one row per project."""

from __future__ import annotations

from projections.tables import PROJECTS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.events import ProjectCreated


def project_created(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    if row is not None:
        return row
    env, project = decoded.envelope, decoded.as_(ProjectCreated)
    return new_row(
        PROJECTS,
        id=env.aggregate_id,
        org_id=env.org_id,
        name=project.name,
        created_at=env.occurred_at,
        updated_at=env.occurred_at,
        version=env.sequence,
    )
