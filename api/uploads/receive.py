"""One PATCH body, streamed onto the end of the part file in bounded pieces.

At most ``PIECE_BYTES`` of the body is in memory at a time. The offset is the part
file's size, and the file is cut back to the last byte really written whatever
happens (a disconnect, a full disk), so the offset never counts a byte that is not
there. A chunk with ``Upload-Checksum`` is all or nothing: any failure cuts it off.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from aiohttp import ClientPayloadError, web

from api.problems import Problem
from api.uploads.protocol import Checksum

PIECE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    end: int  # the declared Upload-Length: no byte past it
    chunk: int  # the largest PATCH body


def too_large(detail: str) -> Problem:
    return Problem(413, detail, kind="upload-too-large", title="Content too large")


def body_ended() -> Problem:
    return Problem(400, "the request body ended early", kind="body-incomplete")


def checksum_mismatch(checksum: Checksum) -> Problem:
    return Problem(
        460,
        f"the chunk's {checksum.algorithm} differs from Upload-Checksum; it was discarded, "
        "send it again",
        kind="checksum-mismatch",
        title="Checksum mismatch",
    )


def _write_all(fd: int, data: bytes, position: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, position)
        view = view[written:]
        position += written


async def append(
    request: web.Request, fd: int, start: int, limits: Limits, checksum: Checksum | None
) -> int:
    """Writes the body at ``start``; returns the new offset (data synced to disk)."""
    declared = request.content_length
    if declared is not None and declared > limits.chunk:
        raise too_large(f"a PATCH body may be at most {limits.chunk} bytes")
    if declared is not None and start + declared > limits.end:
        raise too_large(f"the body would go past the declared Upload-Length {limits.end}")
    hasher = checksum.hasher() if checksum is not None else None
    position = start
    keep = start  # where the file is cut back to if this request fails
    try:
        async for data in request.content.iter_chunked(PIECE_BYTES):
            if position + len(data) - start > limits.chunk:
                raise too_large(f"a PATCH body may be at most {limits.chunk} bytes")
            if position + len(data) > limits.end:
                raise too_large(f"the body goes past the declared Upload-Length {limits.end}")
            # A page-cache write of a piece takes microseconds: no thread hop per piece.
            _write_all(fd, data, position)
            position += len(data)
            if hasher is not None:
                hasher.update(data)
            else:
                keep = position
        if checksum is not None and hasher is not None and hasher.digest() != checksum.digest:
            raise checksum_mismatch(checksum)
        await asyncio.to_thread(os.fdatasync, fd)
        keep = position
        return position
    except (ClientPayloadError, ConnectionError) as exc:
        # The client went away: what arrived (without a checksum) is kept for a resume.
        raise body_ended() from exc
    except OSError as exc:  # the disk is full or failing: not the client's doing
        raise Problem(
            507,
            f"the upload could not be stored ({exc.strerror}); resume it later",
            kind="storage-failed",
            title="Insufficient storage",
        ) from exc
    finally:
        # Also when aiohttp cancels this handler because the client's connection was lost.
        if keep != position or os.fstat(fd).st_size != keep:
            os.ftruncate(fd, keep)
            await asyncio.to_thread(os.fdatasync, fd)
