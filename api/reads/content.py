"""Serving a registered asset's file, never anything outside its organization's space."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from aiohttp import web

from api.appkeys import DATABASE, MEDIA
from api.auth.principal import Principal
from api.problems import Problem, not_found
from api.reads.assets import get_asset
from api.reads.filesend import send_file
from api.responses import path_id
from clipper.errors import MediaError
from clipper.paths import MediaRoot

# Only media types: anything else is served as an opaque download, so a file that
# happens to be HTML or SVG can never run as a page on the API's origin.
_BY_EXTENSION = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".ts": "video/mp2t",
    ".avi": "video/x-msvideo",
    ".flv": "video/x-flv",
    ".ogv": "video/ogg",
    ".m4a": "audio/mp4",
    ".mp3": "audio/mpeg",
    ".aac": "audio/aac",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
# ffprobe's format names (the asset's `container`), for files without a known extension.
_BY_CONTAINER = {
    "mov,mp4,m4a,3gp,3g2,mj2": "video/mp4",
    "matroska,webm": "video/x-matroska",
    "mpegts": "video/mp2t",
    "avi": "video/x-msvideo",
    "flv": "video/x-flv",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "png_pipe": "image/png",
    "jpeg_pipe": "image/jpeg",
    "webp_pipe": "image/webp",
}
FALLBACK_TYPE = "application/octet-stream"
# Whether open descriptors can be traced back to their path (Linux; not every container).
_PROC_FD = Path("/proc/self/fd")
_HAS_PROC_FD = _PROC_FD.is_dir()


def content_type(path: str, container: str | None) -> str:
    by_extension = _BY_EXTENSION.get(PurePosixPath(path).suffix.lower())
    return by_extension or _BY_CONTAINER.get(container or "", FALLBACK_TYPE)


def fd_inside(fd: int, root: Path) -> bool:
    """Where the open file really is. Checked on the descriptor, after opening, so a
    directory swapped for a link between the check and the open is caught too."""
    if _HAS_PROC_FD:
        return Path(os.readlink(_PROC_FD / str(fd))).is_relative_to(root)
    return True  # no /proc: the path was resolved and opened without following a link


def open_inside(media: MediaRoot, relative: str) -> tuple[BinaryIO, os.stat_result] | None:
    """The regular file ``relative`` names inside the media root, opened, with its stat;
    None if it resolves anywhere else (``..``, an absolute path, a link pointing out), is
    missing or is not a regular file. Blocking: run it in a thread."""
    try:
        real = media.resolve(relative)
    except MediaError:
        return None
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        # O_NOFOLLOW: a link put in place of the checked file after resolve() is refused;
        # O_NONBLOCK: a FIFO put there cannot hang the thread (regular files ignore it).
        fd = os.open(real, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not fd_inside(fd, media.root):
            os.close(fd)
            return None
    except OSError:
        os.close(fd)
        return None
    return os.fdopen(fd, "rb"), st


def _not_registered(status: str) -> Problem:
    return Problem(
        409,
        f"the asset has no content to serve (status {status})",
        kind="asset-not-registered",
        title="Conflict",
        extra={"asset_status": status},
    )


async def asset_content(request: web.Request, who: Principal) -> web.StreamResponse:
    asset = await get_asset(request.app[DATABASE], who.org_id, path_id(request, "asset"))
    if asset is None:
        raise not_found("asset")
    if asset.status != "registered":
        raise _not_registered(asset.status)
    ctype = content_type(asset.path, asset.container)
    return await _serve(request, who, asset.path, ctype, "asset file")


async def asset_thumbnail(request: web.Request, who: Principal) -> web.StreamResponse:
    """The still picture made with a clip or a registered video; audio has none (404)."""
    asset = await get_asset(request.app[DATABASE], who.org_id, path_id(request, "asset"))
    if asset is None:
        raise not_found("asset")
    if asset.status != "registered":
        raise _not_registered(asset.status)
    if asset.thumbnail_path is None:
        raise not_found("thumbnail")
    ctype = content_type(asset.thumbnail_path, None)
    if not ctype.startswith("image/"):
        raise not_found("thumbnail")  # only ever an image, whatever the path says
    return await _serve(request, who, asset.thumbnail_path, ctype, "thumbnail file")


async def _serve(
    request: web.Request, who: Principal, relative: str, ctype: str, what: str
) -> web.StreamResponse:
    # Checked again on every request: the file may have been replaced since registration.
    # Only ever from the asset's own organization's space (the token's org).
    space = request.app[MEDIA].space(who.org_id)
    opened = await asyncio.to_thread(open_inside, space, relative)
    if opened is None:
        raise not_found(what)
    fobj, st = opened
    headers = {"Cache-Control": "private, max-age=0", "X-Content-Type-Options": "nosniff"}
    try:
        return await send_file(request, fobj, st, ctype, headers)
    finally:
        fobj.close()
