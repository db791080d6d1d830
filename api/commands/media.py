"""POST handlers of media: register a file as an asset, cut a clip out of one."""

from __future__ import annotations

from aiohttp import web

from api.appkeys import MEDIA
from api.auth.principal import Principal
from api.commands.body import command_data, read_command
from api.commands.clips import SOURCE_PATH, check_request, resolve_source
from api.commands.envelope import idempotency_key, prepare
from api.commands.paths import check_file_exists, check_path_shape
from api.commands.service import accepted, submit, throttle
from api.problems import Loc
from schemas.commands import RegisterAsset, RequestClip

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
