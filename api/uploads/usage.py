"""An organization's storage: what the read model holds, plus uploads not counted there yet.

Stored bytes are the probed sizes of the organization's assets (sources and clips)
that are neither ``failed`` nor ``deleted`` (deleted ones are not counted as assets
either). An upload counts with its declared ``Upload-Length`` from its
creation until its asset has a probed size, so bytes on their way are reserved and a
finished upload is never counted twice or not at all.
"""

from __future__ import annotations

import asyncio
import uuid

from aiohttp import web
from pydantic import BaseModel

from api.appkeys import DATABASE, MEDIA, SETTINGS
from api.auth.principal import Principal
from api.backends.postgres import Database
from api.problems import Problem
from api.uploads.store import UploadRecord, UploadStore


class Usage(BaseModel):
    bytes_stored: int
    bytes_reserved: int
    quota_bytes: int | None
    assets: int
    clips: int
    open_uploads: int


async def _stored(db: Database, org_id: str) -> tuple[int, int, int]:
    row = await db.fetchrow(
        "SELECT COALESCE(SUM(size_bytes) FILTER (WHERE status <> 'failed'), 0)::bigint AS bytes,"
        " count(*) AS assets, (SELECT count(*) FROM clips WHERE org_id = $1) AS clips"
        " FROM assets WHERE org_id = $1 AND status <> 'deleted'",
        org_id,
    )
    if row is None:  # an aggregate always answers one row
        return 0, 0, 0
    return int(row["bytes"]), int(row["assets"]), int(row["clips"])


async def _reserved(db: Database, org_id: str, records: list[UploadRecord]) -> int:
    """Declared lengths of the uploads whose asset has no probed size in the read model."""
    done = [r.asset_id for r in records if r.state != "receiving"]
    sized: set[uuid.UUID] = set()
    if done:
        rows = await db.fetch(
            "SELECT id FROM assets WHERE org_id = $1 AND id = ANY($2::uuid[])"
            " AND (size_bytes IS NOT NULL OR status = 'failed')",
            org_id,
            done,
        )
        sized = {row["id"] for row in rows}
    return sum(r.length for r in records if r.asset_id not in sized)


async def usage_of(app: web.Application, org_id: str) -> Usage:
    store = UploadStore.of_org(app[MEDIA], org_id)
    records = await asyncio.to_thread(store.records)
    stored, assets, clips = await _stored(app[DATABASE], org_id)
    return Usage(
        bytes_stored=stored,
        bytes_reserved=await _reserved(app[DATABASE], org_id, records),
        quota_bytes=app[SETTINGS].media_quota_bytes,
        assets=assets,
        clips=clips,
        open_uploads=sum(1 for r in records if r.state == "receiving"),
    )


async def check_quota(app: web.Application, org_id: str, length: int) -> None:
    """507 when ``length`` more bytes would take the organization past its quota.

    Two creations racing may both pass; the overshoot is bounded by one upload each.
    """
    quota = app[SETTINGS].media_quota_bytes
    if quota is None:
        return
    now = await usage_of(app, org_id)
    used = now.bytes_stored + now.bytes_reserved
    if used + length > quota:
        raise Problem(
            507,
            f"this upload of {length} bytes would exceed the organization's storage quota "
            f"({used} of {quota} bytes used or reserved by unfinished uploads)",
            kind="quota-exceeded",
            title="Insufficient storage",
            extra={"quota_bytes": quota, "used_bytes": used, "upload_bytes": length},
        )


async def get_usage(request: web.Request, who: Principal) -> web.StreamResponse:
    usage = await usage_of(request.app, who.org_id)
    return web.json_response(usage.model_dump(mode="json"))
