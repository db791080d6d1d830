"""Resumable upload of a file over the API's tus 1.0 endpoints.

Each chunk carries a sha256 ``Upload-Checksum`` (the server keeps all of it or none),
and the whole file's sha256 travels in the metadata (checked when complete). After a
broken connection or a refused chunk the client asks the server (``HEAD``) where the
upload stands and goes on from that offset, never from its own idea of it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import uuid
from pathlib import Path

from multidict import CIMultiDictProxy

from client.base import Base
from client.errors import (
    ChecksumMismatch,
    Conflict,
    Locked,
    RetryableError,
    UploadFailed,
    error_for,
)
from client.http import TRANSIENT, Reply, problem_of
from client.models import Uploaded

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK_BYTES = 8 << 20
# Answers after which asking the server for its offset and going on is the fix.
RESUMABLE = (RetryableError, Conflict, Locked, ChecksumMismatch)


def _metadata(fields: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as f:
        f.seek(offset)
        return f.read(size)


def _asset(url: str, size: int, headers: CIMultiDictProxy[str]) -> Uploaded | None:
    if "Asset-Id" not in headers:
        return None
    return Uploaded(
        url=url,
        asset_id=uuid.UUID(headers["Asset-Id"]),
        command_id=uuid.UUID(headers["Asset-Command-Id"]),
        size=size,
    )


class Uploads(Base):
    async def upload(
        self,
        path: str | os.PathLike[str],
        *,
        filename: str | None = None,
        kind: str = "video",
        title: str | None = None,
        project_id: uuid.UUID | str | None = None,
        chunk_size: int = CHUNK_BYTES,
        url: str | None = None,
    ) -> Uploaded:
        """Uploads ``path`` and answers the asset it registers (``probing`` at first).

        ``url``: an upload created earlier (``UploadFailed.url``) to resume from the
        server's offset. Raises UploadFailed when the retries are used up.
        """
        file = Path(path)
        size = (await asyncio.to_thread(file.stat)).st_size
        if url is None:
            fields = {"filename": filename or file.name, "kind": kind}
            fields["sha256"] = await asyncio.to_thread(_sha256, file)
            if title is not None:
                fields["title"] = title
            if project_id is not None:
                fields["project_id"] = str(project_id)
            url = await self._create(size, fields)
        return await self._send_from_offset(file, size, url, chunk_size)

    async def _create(self, size: int, fields: dict[str, str]) -> str:
        headers = {**TUS, "Upload-Length": str(size), "Upload-Metadata": _metadata(fields)}
        # Not retried after a broken connection: a second POST would open a second
        # upload (the first expires on its own). A 429/503 created nothing: retried.
        reply = await self._http.call("POST", "/v1/uploads", headers=headers, retry_safe=False)
        return self._http.url(reply.headers["Location"])

    async def _offset(self, url: str, size: int) -> tuple[int, Uploaded | None]:
        reply = await self._http.call("HEAD", url, headers=TUS)
        return int(reply.headers["Upload-Offset"]), _asset(url, size, reply.headers)

    async def _patch(self, url: str, offset: int, chunk: bytes) -> Reply:
        digest = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
        headers = {
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": f"sha256 {digest}",
        }
        reply = await self._http.send("PATCH", url, headers=headers, data=chunk)
        if reply.status >= 400:
            raise error_for(reply.status, problem_of(reply), dict(reply.headers))
        return reply

    async def _send_from_offset(self, file: Path, size: int, url: str, chunk_size: int) -> Uploaded:
        offset, done = await self._offset(url, size)
        failures = 0
        while done is None:
            # offset == size without the asset headers: a final PATCH whose answer was
            # lost; an empty PATCH at the end completes it again (idempotently).
            chunk = (
                await asyncio.to_thread(_read, file, offset, chunk_size) if offset < size else b""
            )
            try:
                reply = await self._patch(url, offset, chunk)
            except (*TRANSIENT, *RESUMABLE) as exc:
                failures += 1
                wait = self._http.retry.delay(failures, getattr(exc, "retry_after", None))
                if wait is None:
                    raise UploadFailed(
                        f"upload stopped at byte {offset} of {size}: {exc}", url
                    ) from exc
                await asyncio.sleep(wait)
                offset, done = await self._offset(url, size)
                continue
            failures = 0  # progress: the retry budget is per stall, not per upload
            offset = int(reply.headers["Upload-Offset"])
            done = _asset(url, size, reply.headers)
            if done is None and not chunk:
                raise UploadFailed("the upload is complete but the server names no asset", url)
        return done
