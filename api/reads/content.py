"""Serving an asset's file, with HTTP Range (players seek), never outside the media root."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from api.appkeys import DATABASE, SETTINGS
from api.auth.principal import Principal
from api.problems import not_found
from api.reads.assets import get_asset
from api.responses import path_id


def inside(root: Path, relative: str) -> Path | None:
    """The file ``relative`` names under ``root``, or None if it resolves anywhere else
    (``..``, an absolute path, a symlink pointing out) or is not a regular file."""
    base = root.resolve()
    candidate = (base / relative).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


async def asset_content(request: web.Request, who: Principal) -> web.StreamResponse:
    asset = await get_asset(request.app[DATABASE], who.org_id, path_id(request, "asset"))
    if asset is None:
        raise not_found("asset")
    path = await asyncio.to_thread(inside, request.app[SETTINGS].media_root, asset.path)
    if path is None:
        raise not_found("asset file")
    # FileResponse answers Range (206/416), If-Modified-Since and HEAD by itself.
    return web.FileResponse(path, headers={"Cache-Control": "private, max-age=0"})
