"""Media commands: register a file as an asset, cut a clip out of one, delete an asset."""

from __future__ import annotations

import uuid

from aiohttp import web

from api.appkeys import DATABASE, MEDIA
from api.auth.principal import Principal
from api.backends.postgres import Database
from api.commands.body import command_data, read_command
from api.commands.clips import SOURCE_PATH, check_request, resolve_source
from api.commands.envelope import idempotency_key, prepare
from api.commands.paths import check_file_exists, check_path_shape
from api.commands.service import accepted, submit, throttle
from api.problems import Loc, Problem, not_found
from api.reads.assets import get_asset
from api.responses import path_id
from schemas.commands import DeleteAsset, RegisterAsset, RequestClip

ASSET_PATH: Loc = ["body", "path"]


async def register_asset(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=True)
    command = await read_command(request, RegisterAsset)
    check_path_shape(ASSET_PATH, command.path)
    media = request.app[MEDIA].space(who.org_id)  # paths are relative to the caller's space

    async def exists() -> None:
        # Whether it is media at all is the worker's probe (AssetRegistrationFailed).
        await check_file_exists(ASSET_PATH, media, command.path)

    cmd = prepare(request, who, command, command_data(command), key=key)
    await submit(request.app, cmd, creates=True, checks=exists)
    return accepted("assets", cmd.aggregate_id, cmd.command_id)


async def request_clip(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=True)
    command = await read_command(request, RequestClip)
    check_request(command)
    resolved = await resolve_source(request.app, who.org_id, command)
    media = request.app[MEDIA].space(who.org_id)  # paths are relative to the caller's space

    async def exists() -> None:
        if resolved.asset_id is None:  # a registered asset's file was checked by its probe
            await check_file_exists(SOURCE_PATH, media, resolved.path)

    # Resolved before the envelope: the fingerprint covers what the worker will cut.
    data = command_data(command) | {"resolved_source": resolved.model_dump(mode="json")}
    cmd = prepare(request, who, command, data, key=key)
    await submit(request.app, cmd, creates=True, checks=exists)
    return accepted("clips", cmd.aggregate_id, cmd.command_id)


async def delete_asset(request: web.Request, who: Principal) -> web.StreamResponse:
    """DeleteAsset: the media process removes the file once the decider applied it."""
    throttle(request, who)
    key = idempotency_key(request, required=False)
    asset_id = path_id(request, "asset")
    asset = await get_asset(request.app[DATABASE], who.org_id, asset_id)
    if asset is None:
        raise not_found("asset")  # also another organization's: never say it exists
    if asset.status == "probing":
        raise Problem(
            409,
            "the asset is being probed; delete it once it is registered (or failed)",
            kind="asset-not-registered",
            title="Conflict",
            extra={"asset_status": asset.status},
        )
    shared = await _file_shared(request.app[DATABASE], who.org_id, asset_id, asset.path)
    command = DeleteAsset(keep_file=shared)
    cmd = prepare(request, who, command, command_data(command), key=key, aggregate_id=asset_id)
    await submit(request.app, cmd, creates=False)
    return accepted("assets", asset_id, cmd.command_id)


async def _file_shared(db: Database, org_id: str, asset_id: uuid.UUID, path: str) -> bool:
    """Whether another live asset of the organization names the same file (identical
    clips share one content-addressed output). What the read model knows now: an asset
    registered on the same path at this very moment may still lose its file."""
    row = await db.fetchrow(
        "SELECT 1 FROM assets WHERE org_id = $1 AND id <> $2 AND path = $3"
        " AND status <> 'deleted' LIMIT 1",
        org_id,
        asset_id,
        path,
    )
    return row is not None
