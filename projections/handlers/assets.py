"""assets: one row per asset, 'probing' until its probe registers it or fails."""

from __future__ import annotations

from typing import Any

from projections.handlers.failed import mark_failed
from projections.handlers.guard import applies, changed
from projections.tables import ASSETS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.events import (
    AssetDeleted,
    AssetRegistered,
    AssetRegistrationFailed,
    AssetRegistrationRequested,
)


def registration_requested(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    if row is not None:
        return row
    env, asset = decoded.envelope, decoded.as_(AssetRegistrationRequested)
    return new_row(
        ASSETS,
        id=env.aggregate_id,
        org_id=env.org_id,
        project_id=asset.project_id,
        path=asset.path,
        kind=asset.kind,
        title=asset.title,
        probe={},
        status="probing",
        created_at=env.occurred_at,
        updated_at=env.occurred_at,
        version=env.sequence,
    )


def registered(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    """Creates or completes the row: a client's file was inserted as 'probing' by its
    request, while a clip's output is registered in one step (sequence 1, no request
    before it). created_at stays the request's time when there was one; error and
    error_code are the request's business and stay as they are."""
    env, asset = decoded.envelope, decoded.as_(AssetRegistered)
    media = asset.media
    values: dict[str, Any] = {
        "project_id": asset.project_id,
        "path": asset.path,
        "kind": asset.kind,
        "title": asset.title,
        "container": media.container,
        "duration_s": media.duration_s,
        "width": media.width,
        "height": media.height,
        "size_bytes": media.size_bytes,
        "sha256": media.sha256,
        # The whole probe, streams included, as the event carried it.
        "probe": media.model_dump(mode="json"),
        "lineage": None if asset.lineage is None else asset.lineage.model_dump(mode="json"),
        "thumbnail_path": asset.thumbnail_path,
        "source_clip_id": asset.source_clip_id,
        "status": "registered",
    }
    if row is None:
        return new_row(
            ASSETS,
            id=env.aggregate_id,
            org_id=env.org_id,
            created_at=env.occurred_at,
            updated_at=env.occurred_at,
            version=env.sequence,
            **values,
        )
    if not applies(row, env):
        return row
    return changed(row, env, **values)


def registration_failed(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    failure = decoded.as_(AssetRegistrationFailed)
    return mark_failed(row, decoded.envelope, failure.reason, failure.code)


def deleted(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    """The row stays (clips and audit name it) as 'deleted'; its size no longer counts."""
    decoded.as_(AssetDeleted)
    if row is None or not applies(row, decoded.envelope):
        return row
    return changed(row, decoded.envelope, status="deleted")
