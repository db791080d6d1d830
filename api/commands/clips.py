"""A clip request checked before it is produced, and its source resolved from the read model.

What the request alone (or the source asset's row) can tell is answered at once: the
clipper's own request rules, an asset that is unknown, not registered yet, or shorter
than the asked range. What only the file can tell stays the worker's (``ClipFailed``).
"""

from __future__ import annotations

import uuid

from aiohttp import web

from api.appkeys import DATABASE
from api.commands.paths import check_path_shape, refuse
from api.commands.service import creation_pending
from api.problems import Loc, Problem, field_error
from api.reads.assets import Asset, get_asset
from clipper.errors import MediaError
from clipper.request import RANGE_TOLERANCE, ClipSpec
from schemas.commands import RegisterAsset, RequestClip
from schemas.media import ResolvedSource

SOURCE_PATH: Loc = ["body", "source", "path"]
SOURCE_ASSET: Loc = ["body", "source", "asset_id"]


def _loc(command: RequestClip, field: str | None) -> Loc:
    if field is None or field == "source":
        return ["body", "source"]
    if field == "duration" and "end" in command.model_fields_set:
        return ["body", "end"]  # the client gave the range as start/end
    return ["body", field]


def check_request(command: RequestClip) -> None:
    """The rules that need no file: the clipper's (e.g. reframing needs accurate mode),
    and ``resolved_source``, which only the API may fill in."""
    if "resolved_source" in command.model_fields_set:
        raise refuse(["body", "resolved_source"], "is filled in by the server; do not send it")
    try:
        ClipSpec.from_command(command)
    except MediaError as exc:
        raise refuse(_loc(command, exc.field), exc.message) from exc


def check_range(command: RequestClip, asset_duration: float) -> None:
    """The clipper's range rule against the asset's probed duration (same tolerance)."""
    start, end = command.start, command.start + command.length
    if start >= asset_duration:
        raise refuse(
            _loc(command, "start"),
            f"start {start:.3f} s is not before the end of the asset "
            f"(the asset is {asset_duration:.3f} s long)",
        )
    if end > asset_duration + RANGE_TOLERANCE:
        raise refuse(
            _loc(command, "duration"),
            f"the clip would end at {end:.3f} s, after the end of the asset (the asset is "
            f"{asset_duration:.3f} s long); from {start:.3f} s at most "
            f"{asset_duration - start:.3f} s can be cut",
        )


def not_registered(asset_id: uuid.UUID, status: str) -> Problem:
    detail = (
        f"the asset {asset_id} could not be registered (status failed); register the file "
        "again under a new Idempotency-Key"
        if status == "failed"
        else f"the asset {asset_id} is not registered yet (status {status}); retry shortly"
    )
    return Problem(
        409,
        detail,
        kind="asset-not-registered",
        title="Conflict",
        errors=[field_error(SOURCE_ASSET, detail)],
        extra={"asset_status": status},
    )


def unknown_asset(asset_id: uuid.UUID) -> Problem:
    detail = f"no such asset {asset_id}"
    return Problem(
        404,
        detail,
        kind="not-found",
        title="Not found",
        errors=[field_error(SOURCE_ASSET, detail)],
    )


async def registered_asset(app: web.Application, org_id: str, asset_id: uuid.UUID) -> Asset:
    """The organization's asset, registered; 404 / 409 otherwise."""
    asset = await get_asset(app[DATABASE], org_id, asset_id)
    if asset is None:
        if await creation_pending(app, org_id, asset_id, RegisterAsset.TYPE):
            raise not_registered(asset_id, "pending")
        raise unknown_asset(asset_id)
    if asset.status != "registered":
        raise not_registered(asset_id, asset.status)
    return asset


async def resolve_source(app: web.Application, org_id: str, command: RequestClip) -> ResolvedSource:
    """What the clip is cut from. Deterministic for a given request: an asset's path and
    digest never change once registered, and a path source is taken as sent (the
    worker resolves it on disk again), so a retry keeps its fingerprint."""
    if command.source.asset_id is not None:
        asset = await registered_asset(app, org_id, command.source.asset_id)
        if asset.duration_s is not None:
            check_range(command, asset.duration_s)
        return ResolvedSource(asset_id=asset.id, path=asset.path, sha256=asset.sha256)
    path = command.source.path
    if path is None:  # ClipSource guarantees one of the two
        raise refuse(["body", "source"], "give exactly one of asset_id or path")
    check_path_shape(SOURCE_PATH, path)
    return ResolvedSource(path=path)
