"""Expiration: unfinished uploads past ``Upload-Expires`` lose their bytes.

Runs in the API process (``cleanup_ctx``), every quarter of the expiry time (between
5 s and 5 min), over every organization's space. A request that meets an expired
upload removes it at once too, so the sweep only bounds how long abandoned bytes stay.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import structlog
from aiohttp import web

from api.appkeys import MEDIA, SETTINGS
from api.uploads.store import UploadStore
from clipper.paths import MediaRoot

MIN_INTERVAL_S = 5.0
MAX_INTERVAL_S = 300.0

log = structlog.get_logger(__name__)


def sweep_expired(media: MediaRoot, now: datetime, expiry_seconds: float) -> int:
    """Removes expired unfinished uploads (and orphaned part files); returns how many.

    A finished upload's record is dropped once it is past its expiry too: its file is an
    asset by then and stays. Blocking: run it in a thread.
    """
    removed = 0
    for space in media.spaces():
        store = UploadStore.of_space(media, space)
        for record in store.records():
            if now >= record.expires_at and record.state != "registering":
                store.remove(record.id, keep_bytes=record.state == "registered")
                removed += 1
        for part in store.orphans(now.timestamp() - expiry_seconds):
            part.unlink(missing_ok=True)
            removed += 1
    return removed


def interval(expiry_seconds: float) -> float:
    return min(max(expiry_seconds / 4, MIN_INTERVAL_S), MAX_INTERVAL_S)


async def upload_sweeper(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the periodic sweep, stopped with the app."""
    expiry = app[SETTINGS].upload_expiry_seconds

    async def loop() -> None:
        while True:
            try:
                count = await asyncio.to_thread(
                    sweep_expired, app[MEDIA], datetime.now(UTC), expiry
                )
                if count:
                    log.info("expired uploads removed", count=count)
            except OSError as exc:  # a media root that is unreadable now: try next time
                log.warning("upload sweep failed", error=repr(exc))
            await asyncio.sleep(interval(expiry))

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
