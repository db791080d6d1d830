"""`!clip [seconds]` in a channel's chat: RequestClip of the recording's last seconds.

Only the broadcaster and moderators (by their badges) can clip; anyone else, and any
other message, is ignored (204, nothing emitted). The clip covers the last N seconds
(1-120, default 30) of the configured asset, or of the project's latest recording.
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from aiohttp import web

from api.commands.body import command_data
from api.commands.clips import check_request, resolve_source
from api.commands.envelope import prepare
from api.commands.service import submit, throttle
from api.integrations.bot import bot_principal, text
from api.integrations.reads import Bound
from api.integrations.recording import recording_asset
from api.integrations.twitch_verify import SUBSCRIPTION_HEADER
from api.problems import Problem
from schemas.commands import ClipSource, RequestClip

log = structlog.get_logger(__name__)

CHAT_MESSAGE = "channel.chat.message"
CLIP = re.compile(r"^\s*!clip(?:\s+(\d{1,6}))?\s*$", re.IGNORECASE)
DEFAULT_SECONDS, MAX_SECONDS = 30, 120
PRIVILEGED_BADGES = frozenset({"broadcaster", "moderator"})


def clip_seconds(message: str) -> int | None:
    """The seconds a `!clip` asks for, or None when it is no (valid) clip command."""
    match = CLIP.match(message)
    if match is None:
        return None
    seconds = int(match.group(1)) if match.group(1) else DEFAULT_SECONDS
    return seconds if 1 <= seconds <= MAX_SECONDS else None


def privileged(event: dict[str, Any], broadcaster_user_id: str | None) -> bool:
    if broadcaster_user_id is not None and event.get("chatter_user_id") == broadcaster_user_id:
        return True
    badges = event.get("badges")
    return any(
        isinstance(b, dict) and b.get("set_id") in PRIVILEGED_BADGES
        for b in (badges if isinstance(badges, list) else [])
    )


def _ignored(integration: Bound, reason: str) -> None:
    log.info(
        "chat_message_ignored",
        org_id=integration.org_id,
        integration_id=str(integration.id),
        reason=reason,
    )


async def chat_message(
    request: web.Request, integration: Bound, payload: dict[str, Any], message_id: str
) -> None:
    event = payload.get("event")
    if request.headers.get(SUBSCRIPTION_HEADER) != CHAT_MESSAGE or not isinstance(event, dict):
        return _ignored(integration, "not a chat message")
    if event.get("broadcaster_user_id") != integration.broadcaster_user_id:
        return _ignored(integration, "another channel")
    message = event.get("message")
    said = text(message.get("text"), 500) if isinstance(message, dict) else None
    seconds = None if said is None else clip_seconds(said)
    if seconds is None:
        return None  # ordinary chat: not even worth a log line
    if not privileged(event, integration.broadcaster_user_id):
        return _ignored(integration, "not a moderator or the broadcaster")
    who = bot_principal(integration)
    if not who.has("clips:write"):
        return _ignored(integration, "the integration lacks clips:write")
    asset = await recording_asset(
        request.app, who.org_id, integration.recording_asset_id, integration.recording_project_id
    )
    if asset is None or asset.duration_s is None:
        return _ignored(integration, "no registered recording to clip")
    length = min(float(seconds), asset.duration_s)
    chatter = text(event.get("chatter_user_login"), 50) or "a moderator"
    command = RequestClip(
        source=ClipSource(asset_id=asset.id),
        start=round(max(0.0, asset.duration_s - length), 3),
        duration=round(length, 3),
        title=f"!clip {seconds} by {chatter}",
        project_id=asset.project_id,
    )
    try:
        throttle(request, who)
        check_request(command)
        resolved = await resolve_source(request.app, who.org_id, command)
        data = command_data(command) | {"resolved_source": resolved.model_dump(mode="json")}
        cmd = prepare(request, who, command, data, key=f"twitch:{message_id}")
        await submit(request.app, cmd, creates=True)
    except Problem as refused:
        if refused.status in (429, 503):
            raise  # Twitch redelivers: the clip is made then
        # A refusal (a conflict with an earlier copy of this message, a recording gone)
        # is final: answering an error would only make Twitch send it again.
        return _ignored(integration, f"refused: {refused.detail}")
    log.info(
        "chat_clip_requested",
        org_id=who.org_id,
        command_id=str(cmd.command_id),
        integration_id=str(integration.id),
        seconds=seconds,
    )
    return None
