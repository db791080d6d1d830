"""Removes the temp files of clips whose worker died (SIGKILL, power cut) mid-ffmpeg.

Several workers may share one media root, so a temp file is only removed once no
running job can still own it: a job's files live at most its timeout (the clipper
counts it from before the first temp file until the last is renamed or removed),
plus the grace ffmpeg gets to stop. The sweep runs at start and then periodically.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import structlog

from clipper import MediaRoot, cleanup_stale_temp_files

# ffmpeg gets 1 s between SIGTERM and SIGKILL; the rest covers slow renames and clocks.
GRACE_SECONDS = 15.0
MIN_INTERVAL_SECONDS = 5.0
MAX_INTERVAL_SECONDS = 300.0

log = structlog.get_logger("streams.media.sweeper")


def stale_after(clip_timeout_seconds: float) -> float:
    """Age (by mtime) past which a temp file belongs to no running job."""
    return clip_timeout_seconds + GRACE_SECONDS


def sweep_interval(clip_timeout_seconds: float) -> float:
    """Often enough that an orphan outlives its staleness by at most a quarter of it."""
    quarter = stale_after(clip_timeout_seconds) / 4
    return min(max(quarter, MIN_INTERVAL_SECONDS), MAX_INTERVAL_SECONDS)


async def sweep(media_root: Path, clip_timeout_seconds: float) -> list[Path]:
    """Sweeps every organization's space (and the root, where clips lived before spaces)."""
    older_than = stale_after(clip_timeout_seconds)

    def every_space() -> list[Path]:
        roots = [MediaRoot(media_root).root, *(s.root for s in MediaRoot(media_root).spaces())]
        return [
            p
            for root in roots
            for p in cleanup_stale_temp_files(root, older_than_seconds=older_than)
        ]

    removed = await asyncio.to_thread(every_space)
    if removed:
        log.info("stale_temp_files_removed", count=len(removed))
    return removed
