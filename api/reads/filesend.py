"""Sending an already opened file over HTTP: Range (206/416), ETag, 304, HEAD.

aiohttp's FileResponse opens a *path* itself (after our checks, so a link swapped in
between would be followed) and serves a ``.gz`` sibling instead when the client accepts
gzip; neither suits media that must be exactly the checked file. This sends the open
file object it is given, and nothing else.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import BinaryIO

from aiohttp import web

from api.problems import Problem

CHUNK_BYTES = 256 * 1024


def _etag(st: os.stat_result) -> str:
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


def _http_date(timestamp: float) -> str:
    return format_datetime(datetime.fromtimestamp(int(timestamp), UTC), usegmt=True)


def _not_before(header: str, st: os.stat_result) -> bool:
    """Whether the file was not modified after the HTTP date ``header`` (False if bad)."""
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    return when.tzinfo is not None and int(st.st_mtime) <= when.timestamp()


def _not_modified(request: web.Request, st: os.stat_result) -> bool:
    etag = _etag(st)
    if (none_match := request.headers.get("If-None-Match")) is not None:
        tags = {t.strip().removeprefix("W/") for t in none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("If-Modified-Since")
    return since is not None and _not_before(since, st)


def _range_applies(request: web.Request, st: os.stat_result) -> bool:
    """RFC 9110 §13.1.5: with If-Range, a range is served only for the same file version."""
    if "Range" not in request.headers:
        return False
    if_range = request.headers.get("If-Range")
    if if_range is None:
        return True
    if if_range.startswith(('"', "W/")):
        return if_range == _etag(st)  # strong comparison: weak tags never match
    return _not_before(if_range, st)


def _byte_range(request: web.Request, size: int) -> tuple[int, int] | None:
    """(first byte, count) of a single ``bytes=`` range, None to send the whole file,
    416 when the range starts past the end."""
    try:
        rng = request.http_range  # parses one "bytes=a-b" / "a-" / "-n" range only
    except ValueError:
        # RFC 9110 §14.2: a server may ignore a Range it does not support (other units,
        # several ranges, a malformed one) and send the whole representation.
        return None
    unsatisfiable = Problem(
        416,
        "the requested range is not satisfiable",
        headers={"Content-Range": f"bytes */{size}"},
    )
    start, stop = rng.start, rng.stop
    if start is None:
        return None
    if start < 0:  # "-n": the last n bytes
        first = max(size + start, 0)
        if size == 0:
            raise unsatisfiable
        return first, size - first
    if start >= size:
        raise unsatisfiable
    end = size if stop is None else min(stop, size)
    return start, end - start


def _read(fobj: BinaryIO, offset: int, count: int) -> bytes:
    fobj.seek(offset)
    return fobj.read(count)


async def send_file(
    request: web.Request,
    fobj: BinaryIO,
    st: os.stat_result,
    content_type: str,
    headers: dict[str, str],
) -> web.StreamResponse:
    """Answers ``request`` with the content of ``fobj``, whose ``os.fstat`` is ``st``
    (the caller closes it)."""
    meta = {
        **headers,
        "ETag": _etag(st),
        "Last-Modified": _http_date(st.st_mtime),
        "Accept-Ranges": "bytes",
    }
    if _not_modified(request, st):
        return web.Response(status=304, headers=meta)
    first, count, status = 0, st.st_size, 200
    byte_range = _byte_range(request, st.st_size) if _range_applies(request, st) else None
    if byte_range is not None:
        first, count = byte_range
        status = 206
        meta["Content-Range"] = f"bytes {first}-{first + count - 1}/{st.st_size}"
    response = web.StreamResponse(status=status, headers=meta)
    response.content_type = content_type
    response.content_length = count
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    offset, left = first, count
    try:
        while left > 0:
            chunk = await asyncio.to_thread(_read, fobj, offset, min(CHUNK_BYTES, left))
            if not chunk:
                break  # the file shrank while being sent; the client sees a short body
            await response.write(chunk)
            offset += len(chunk)
            left -= len(chunk)
        await response.write_eof()
    except ConnectionResetError:
        pass  # the player went away (seeking does that all the time)
    return response
