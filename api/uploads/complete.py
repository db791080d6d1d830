"""A complete upload becomes an asset: verified, renamed into the space, registered.

Registration is the ordinary RegisterAsset of ``POST /v1/assets`` (same envelope, same
submit), with the Idempotency-Key ``upload:<upload id>``: its command id and asset id
are fixed when the upload is created, so a retried final PATCH (or a HEAD after a
crash between the rename and the produce) produces the same command again, which the
decider takes once.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from aiohttp import web

from api.auth.principal import Principal
from api.commands.body import command_data
from api.commands.envelope import prepare
from api.commands.service import submit
from api.problems import Problem
from api.uploads.sniff import HEAD_BYTES, refusal
from api.uploads.store import UploadRecord, UploadStore
from schemas.commands import RegisterAsset

HASH_PIECE_BYTES = 1024 * 1024


def idempotency_key(upload_id: str) -> str:
    return f"upload:{upload_id}"


def not_media(reason: str) -> Problem:
    return Problem(
        415,
        f"{reason}; the upload was removed",
        kind="not-media",
        title="Unsupported media type",
    )


def read_head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(HEAD_BYTES)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while piece := f.read(HASH_PIECE_BYTES):
            digest.update(piece)
    return digest.hexdigest()


async def sniff(store: UploadStore, record: UploadRecord) -> None:
    """Refuses (and removes) an upload whose first bytes are no media file's."""
    reason = refusal(await asyncio.to_thread(read_head, store.part(record.id)))
    if reason is not None:
        await asyncio.to_thread(store.remove, record.id)
        raise not_media(reason)


async def verify(store: UploadStore, record: UploadRecord) -> None:
    """The whole file against the ``sha256`` metadata, when the client gave one."""
    await sniff(store, record)
    expected = record.meta.sha256
    if expected is None:
        return
    actual = await asyncio.to_thread(sha256_of, store.part(record.id))
    if actual != expected:
        await asyncio.to_thread(store.remove, record.id)
        raise Problem(
            422,
            f"the file's sha256 is {actual}, not the {expected} its metadata declared; "
            "the upload was removed",
            kind="upload-digest-mismatch",
            title="Digest mismatch",
        )


def register_command(record: UploadRecord) -> RegisterAsset:
    meta = record.meta
    return RegisterAsset(
        path=record.final_path, kind=meta.kind, title=meta.asset_title, project_id=meta.project_id
    )


async def register(
    request: web.Request, who: Principal, store: UploadStore, record: UploadRecord
) -> UploadRecord:
    """From ``registering`` to ``registered``; safe to repeat at any point."""
    if record.state == "receiving":
        await verify(store, record)
        record = record.model_copy(update={"state": "registering"})
        await asyncio.to_thread(store.save, record)
    if record.state == "registering":
        await asyncio.to_thread(store.finish, record)
        command = register_command(record)
        cmd = prepare(request, who, command, command_data(command), key=idempotency_key(record.id))
        await submit(request.app, cmd, creates=True)
        record = record.model_copy(update={"state": "registered"})
        await asyncio.to_thread(store.save, record)
    return record


def asset_headers(record: UploadRecord) -> dict[str, str]:
    """How a client finds what its finished upload became (docs/api.md#uploads)."""
    if record.state != "registered":
        return {}
    return {
        "Asset-Id": str(record.asset_id),
        "Asset-Location": f"/v1/assets/{record.asset_id}",
        "Asset-Command-Id": str(record.command_id),
    }
