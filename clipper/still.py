"""A registered video source's thumbnail: one still, made when the source is probed."""

from __future__ import annotations

import asyncio
import uuid

from clipper import process
from clipper.errors import ClipTimeoutError, FfmpegError
from clipper.limits import ClipLimits
from clipper.paths import MediaRoot
from clipper.plan import ThumbnailFormat, plan_still
from clipper.probe import Probe
from clipper.seek import SeekPoint
from clipper.store import discard, publish, source_thumbnail_path, temp_path

# Where the still is taken: a tenth into the video, at most this far. Past a fade from
# black or a title card, and still what the video opens with.
STILL_AT_MOST_SECONDS = 10.0


def still_time(source: Probe) -> float:
    return min(STILL_AT_MOST_SECONDS, source.duration / 10) if source.duration else 0.0


async def make_source_thumbnail(
    media: MediaRoot,
    source: Probe,
    asset_id: uuid.UUID,
    limits: ClipLimits,
    *,
    fmt: ThumbnailFormat = "jpg",
    ffmpeg: str = "ffmpeg",
    durable: bool = True,
) -> str:
    """Writes the thumbnail of ``source`` (probed, in ``media``) for the asset
    ``asset_id`` and returns its path relative to ``media``.

    Like a clip's: a JPEG at most 640 px wide, written under a temporary name, flushed
    and renamed into place. ffmpeg reads only ``source`` (protocol and container
    allowlists) and gets ``limits.probe_timeout_seconds``. Raises FfmpegError or
    ClipTimeoutError; no temporary file is left behind either way.
    """
    final = source_thumbnail_path(media.root, asset_id, fmt)
    temp = temp_path(media.root, fmt)
    at = still_time(source)
    # -ss before -i: ffmpeg decodes from the keyframe before ``at`` and keeps ``at``.
    argv = plan_still(source, at, SeekPoint(at, at), temp, fmt=fmt, ffmpeg=ffmpeg)
    try:
        async with asyncio.timeout(limits.probe_timeout_seconds):
            done = await process.run(argv)
        made = await asyncio.to_thread(lambda: temp.is_file() and temp.stat().st_size > 0)
        if done.returncode != 0 or not made:
            lines = [line for line in done.stderr.splitlines() if line.strip()] or ["no message"]
            message = lines[-1].replace(str(media.root), "<media>")
            raise FfmpegError(f"ffmpeg failed to make a thumbnail: {message}")
        await asyncio.to_thread(publish, temp, final, durable=durable)
    except TimeoutError as exc:
        raise ClipTimeoutError(
            f"the thumbnail took longer than {limits.probe_timeout_seconds:g} s"
        ) from exc
    finally:
        await asyncio.to_thread(discard, temp)
    return media.relative(final)
