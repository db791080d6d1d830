"""Asking the worker for assets and clips as the API would, and reading what came of it."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

from clipper import MediaRoot
from schemas.commands import ClipSource, RegisterAsset, RequestClip
from schemas.envelope import Envelope
from schemas.ids import derived_id
from schemas.media import ResolvedSource
from tests.integration.streams.helpers import Stack, TopicReader, creating


def org() -> str:
    return f"org-{uuid.uuid4().hex[:8]}"


def space_of(stack: Stack, tenant: str) -> Path:
    """The organization's media space: its paths are relative to it (docs/clipping.md)."""
    root = MediaRoot(stack.settings.media_root).space(tenant).root
    root.mkdir(parents=True, exist_ok=True)
    return root


def register(tenant: str, key: str, path: str, **fields: Any) -> Envelope:
    return creating(tenant, key, RegisterAsset(path=path, **fields))


def request_clip(
    tenant: str,
    key: str,
    path: str,
    *,
    asset_id: uuid.UUID | None = None,
    sha256: str | None = None,
    **fields: Any,
) -> Envelope:
    """A RequestClip whose source the API resolved (from the read model, for an asset)."""
    source = ClipSource(asset_id=asset_id) if asset_id else ClipSource(path=path)
    resolved = ResolvedSource(asset_id=asset_id, path=path, sha256=sha256)
    command = RequestClip.model_validate({"source": source, "resolved_source": resolved, **fields})
    return creating(tenant, key, command)


def output_asset_id(clip: Envelope) -> uuid.UUID:
    return derived_id(clip.aggregate_id, "output-asset")


def of(reader: TopicReader, message_type: str, aggregate_id: uuid.UUID) -> list[Envelope]:
    """Distinct events (by id) of one type on one aggregate, in log order."""
    seen: dict[uuid.UUID, Envelope] = {}
    for e in reader.of_type(message_type):
        if e.aggregate_id == aggregate_id:
            seen.setdefault(e.id, e)
    return list(seen.values())


async def first(
    stack: Stack, message_type: str, aggregate_id: uuid.UUID, timeout: float = 60.0
) -> Envelope:
    await stack.events.wait_until(lambda r: bool(of(r, message_type, aggregate_id)), timeout)
    return of(stack.events, message_type, aggregate_id)[0]


async def clip_end(stack: Stack, clip: Envelope, timeout: float = 90.0) -> Envelope:
    """The clip's ClipCompleted or ClipFailed, whichever the worker produced."""
    ends = ("clip.ClipCompleted", "clip.ClipFailed")

    def ended(r: TopicReader) -> bool:
        return any(of(r, t, clip.aggregate_id) for t in ends)

    await stack.events.wait_until(ended, timeout)
    return next(e for t in ends for e in of(stack.events, t, clip.aggregate_id))


def sha256_of(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def temp_files(media_root: Path) -> list[Path]:
    """Anything under the media root that is not a finished file: partials, *.tmp."""
    return sorted(
        p
        for p in media_root.rglob("*")
        if p.is_file() and (".partial" in p.parts or p.name.endswith((".tmp", ".partial")))
    )
