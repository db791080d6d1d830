"""The tus endpoints: OPTIONS, POST (creation), HEAD, PATCH, DELETE (termination).

Every upload lives in the caller's own space; an id of another organization's upload
is looked up in the caller's space, where it does not exist: 404, like any other
organization's resource.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from aiohttp import web

from api.appkeys import MEDIA, SETTINGS
from api.auth.principal import Principal
from api.commands.service import throttle
from api.problems import Problem, not_found
from api.uploads import complete
from api.uploads.metadata import upload_meta
from api.uploads.protocol import (
    CHECKSUM_ALGORITHMS,
    OFFSET_TYPE,
    TUS_EXTENSIONS,
    TUS_VERSION,
    header_int,
    http_date,
    parse_checksum,
    parse_metadata,
)
from api.uploads.receive import Limits, append, too_large
from api.uploads.sniff import HEAD_BYTES
from api.uploads.store import UnsafeSpace, UploadRecord, UploadStore, new_upload_id
from api.uploads.usage import check_quota
from schemas.ids import aggregate_id_for, command_id_for

NO_CACHE = {"Cache-Control": "no-store"}


def _store(request: web.Request, who: Principal) -> UploadStore:
    return UploadStore.of_org(request.app[MEDIA], who.org_id)


def unsafe_space(exc: UnsafeSpace) -> Problem:
    return Problem(
        409,
        f"the organization's media space cannot take uploads: {exc}",
        kind="media-space-unusable",
        title="Conflict",
    )


def gone() -> Problem:
    return Problem(
        410,
        "this upload expired and its bytes were removed; start a new upload",
        kind="upload-expired",
        title="Gone",
    )


async def _register(
    request: web.Request, who: Principal, store: UploadStore, record: UploadRecord
) -> UploadRecord:
    try:
        return await complete.register(request, who, store, record)
    except UnsafeSpace as exc:  # e.g. "uploaded" planted as a link out of the space
        raise unsafe_space(exc) from exc


async def _record(request: web.Request, who: Principal, store: UploadStore) -> UploadRecord:
    """The caller's upload named in the path; 404 if unknown, 410 (and removed) if expired."""
    record = await asyncio.to_thread(store.load, request.match_info["id"])
    if record is None or record.org_id != who.org_id:
        raise not_found("upload")
    if record.expired(datetime.now(UTC)):
        await asyncio.to_thread(store.remove, record.id)
        raise gone()
    return record


def _state_headers(record: UploadRecord, offset: int) -> dict[str, str]:
    headers = {
        "Upload-Offset": str(offset),
        "Upload-Length": str(record.length),
        **complete.asset_headers(record),
    }
    if record.state == "receiving":
        headers["Upload-Expires"] = http_date(record.expires_at)
    return headers


async def options(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    return web.Response(
        status=204,
        headers={
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Max-Size": str(settings.upload_max_bytes),
            "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
        },
    )


async def create(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    settings = request.app[SETTINGS]
    if "Upload-Defer-Length" in request.headers:
        raise Problem(400, "Upload-Defer-Length is not supported: send Upload-Length")
    length = header_int(request, "Upload-Length")
    if length > settings.upload_max_bytes:
        raise too_large(f"an upload may be at most {settings.upload_max_bytes} bytes")
    if length == 0:
        raise Problem(400, "an empty file is no media: Upload-Length is 0", kind="empty-upload")
    meta = upload_meta(parse_metadata(request.headers.get("Upload-Metadata")))
    if request.content_length:  # creation-with-upload is not offered
        raise Problem(400, "send the bytes with PATCH after creating the upload")
    await check_quota(request.app, who.org_id, length)
    upload_id = new_upload_id()
    command_id = command_id_for(who.org_id, complete.idempotency_key(upload_id))
    now = datetime.now(UTC)
    record = UploadRecord(
        id=upload_id,
        org_id=who.org_id,
        length=length,
        meta=meta,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.upload_expiry_seconds),
        asset_id=aggregate_id_for(command_id),
        command_id=command_id,
    )
    store = _store(request, who)
    try:
        await asyncio.to_thread(store.create, record)
    except UnsafeSpace as exc:
        raise unsafe_space(exc) from exc
    return web.Response(
        status=201,
        headers={
            "Location": f"/v1/uploads/{upload_id}",
            "Upload-Expires": http_date(record.expires_at),
            **NO_CACHE,
        },
    )


async def head(request: web.Request, who: Principal) -> web.StreamResponse:
    store = _store(request, who)
    record = await _record(request, who, store)
    if record.state == "registering":  # a crash or an outage stopped the last PATCH
        record = await _register(request, who, store, record)
    offset = await asyncio.to_thread(store.offset, record)
    return web.Response(status=200, headers={**_state_headers(record, offset), **NO_CACHE})


async def patch(request: web.Request, who: Principal) -> web.StreamResponse:
    if request.content_type != OFFSET_TYPE:
        raise Problem(415, f"send the chunk as {OFFSET_TYPE}", kind="unsupported-media-type")
    store = _store(request, who)
    record = await _record(request, who, store)
    claimed = header_int(request, "Upload-Offset")
    checksum = parse_checksum(request.headers.get("Upload-Checksum"))
    if record.state != "receiving":
        if claimed != record.length:
            raise _offset_conflict(claimed, record.length)
        record = await _register(request, who, store, record)
        return web.Response(status=204, headers=_state_headers(record, record.length))
    try:
        fd = await asyncio.to_thread(store.open_part, record.id)
    except UnsafeSpace as exc:
        raise unsafe_space(exc) from exc
    except FileNotFoundError as exc:
        raise not_found("upload") from exc
    try:
        # The lock covers the completion too: a retried final PATCH gets 423 instead of
        # verifying and moving the same file at the same time.
        with _locked(fd):
            offset = os.fstat(fd).st_size
            if claimed != offset:
                raise _offset_conflict(claimed, offset)
            limits = Limits(end=record.length, chunk=request.app[SETTINGS].upload_chunk_max_bytes)
            offset = await append(request, fd, offset, limits, checksum)
            if claimed < HEAD_BYTES <= offset < record.length:
                await complete.sniff(store, record)  # fail fast, before gigabytes follow
            if offset == record.length:
                record = await _register(request, who, store, record)
    except FileNotFoundError as exc:  # a DELETE of the upload won the race
        raise not_found("upload") from exc
    finally:
        os.close(fd)
    return web.Response(status=204, headers=_state_headers(record, offset))


@contextlib.contextmanager
def _locked(fd: int) -> Iterator[None]:
    """One PATCH at a time per upload, across processes too (flock on the part file)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        raise Problem(
            423,
            "another PATCH of this upload is in progress; retry after it ends",
            kind="upload-locked",
            title="Locked",
        ) from exc
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _offset_conflict(claimed: int, offset: int) -> Problem:
    return Problem(
        409,
        f"Upload-Offset is {claimed} but the upload is at {offset}; resume from HEAD's offset",
        kind="offset-mismatch",
        title="Conflict",
        extra={"upload_offset": offset},
    )


async def terminate(request: web.Request, who: Principal) -> web.StreamResponse:
    store = _store(request, who)
    record = await _record(request, who, store)
    # A finished upload is an asset now: only its record goes, never the asset's file.
    await asyncio.to_thread(store.remove, record.id, keep_bytes=record.state != "receiving")
    return web.Response(status=204)
