"""Which event tells which pending interaction what: pure, no I/O.

A ``/queue`` interaction is told by its ``ItemEnqueued`` (same command id) or by its
command's ``rejected`` outcome; a ``/clip`` interaction by the rejection, or later by
``ClipCompleted`` / ``ClipFailed`` of the clip it created (same aggregate id).
"""

from __future__ import annotations

from schemas.base import Message
from schemas.codec import Decoded
from schemas.events import ClipCompleted, ClipFailed, CommandOutcomeRecorded, ItemEnqueued
from vault.inbound import PendingReply

TYPES = frozenset(
    {ItemEnqueued.TYPE, CommandOutcomeRecorded.TYPE, ClipCompleted.TYPE, ClipFailed.TYPE}
)
MAX_CONTENT = 2000


def download_link(api_base: str, asset_id: object, token: str) -> str:
    """The API route that serves a finished clip to whoever holds the link."""
    return f"{api_base.rstrip('/')}/integrations/downloads/{asset_id}/{token}"


def followup(decoded: Decoded[Message], reply: PendingReply, link: str | None) -> str | None:
    """The follow-up message's content, or None when this event tells it nothing.

    ``link``: where a completed clip can be downloaded (made by the caller, who has the
    database); without one the message names the clip only."""
    env = decoded.envelope
    if env.org_id != reply.org_id:
        return None  # ids are derived per organization; this guards against a bug anyway
    text: str | None = None
    if env.type == CommandOutcomeRecorded.TYPE and env.command_id == reply.command_id:
        outcome = decoded.as_(CommandOutcomeRecorded)
        if outcome.outcome == "rejected":
            text = f"Refused: {outcome.reason or 'the command was rejected'}"
    elif env.type == ItemEnqueued.TYPE and reply.kind == "queue":
        if env.command_id == reply.command_id:
            item = decoded.as_(ItemEnqueued)
            text = (
                f"Queued “{item.title}” for {item.platform} at "
                f"{item.schedule_at.isoformat()} (item {env.aggregate_id})."
            )
    elif reply.kind == "clip" and env.aggregate_id == reply.aggregate_id:
        if env.type == ClipCompleted.TYPE:
            seconds = decoded.as_(ClipCompleted).media.duration_s
            length = "" if seconds is None else f" ({seconds:.1f} s)"
            text = f"Clip {env.aggregate_id} is ready{length}" + (f": {link}" if link else ".")
        elif env.type == ClipFailed.TYPE:
            text = f"Clip {env.aggregate_id} failed: {decoded.as_(ClipFailed).reason}"
    return None if text is None else text[:MAX_CONTENT]
