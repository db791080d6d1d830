"""The recording a Twitch `!clip` cuts from: checked at creation, resolved per clip."""

from __future__ import annotations

import uuid

from aiohttp import web

from api.appkeys import DATABASE
from api.integrations.bodies import Recording
from api.problems import Problem, field_error
from api.reads.assets import Asset, get_asset
from api.reads.projects import get_project


def _missing(field: str, what: str) -> Problem:
    detail = f"no such {what} in this organization"
    return Problem(
        404,
        detail,
        kind="not-found",
        title="Not found",
        errors=[field_error(["body", "recording", field], detail)],
    )


async def check_recording(app: web.Application, org_id: str, recording: Recording) -> None:
    """404 unless the project or asset is the organization's (and projected)."""
    db = app[DATABASE]
    if recording.asset_id is not None:
        if await get_asset(db, org_id, recording.asset_id) is None:
            raise _missing("asset_id", "asset")
    elif recording.project_id is not None and (
        await get_project(db, org_id, recording.project_id) is None
    ):
        raise _missing("project_id", "project")


LATEST_VIDEO = (
    "SELECT id FROM assets WHERE org_id = $1 AND project_id = $2 AND kind = 'video'"
    " AND status = 'registered' AND duration_s IS NOT NULL AND source_clip_id IS NULL"
    " ORDER BY created_at DESC, id DESC LIMIT 1"
)


async def recording_asset(
    app: web.Application,
    org_id: str,
    asset_id: uuid.UUID | None,
    project_id: uuid.UUID | None,
) -> Asset | None:
    """The configured asset, or the project's latest registered video (clips excluded)."""
    db = app[DATABASE]
    if asset_id is None and project_id is not None:
        row = await db.fetchrow(LATEST_VIDEO, org_id, project_id)
        asset_id = None if row is None else row["id"]
    if asset_id is None:
        return None
    asset = await get_asset(db, org_id, asset_id)
    if asset is None or asset.status != "registered" or asset.duration_s is None:
        return None
    return asset
