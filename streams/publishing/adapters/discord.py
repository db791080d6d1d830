"""Discord: Execute Webhook with `?wait=true`; the returned message id is the post id.

Only the webhook's id and token are taken from the connection's `webhook_url`; the
request goes to the configured API base, so a connection can't point us elsewhere.
Execute Webhook has no idempotency field and no way to find a message without its id:
an unknown outcome can't be reconciled (`CannotKnow`, the item becomes `unconfirmed`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp

from streams.publishing.adapters.base import (
    Adapter,
    Answer,
    CannotKnow,
    Checkpoint,
    ErrorClass,
    Failed,
    Published,
    PublishRequest,
    PublishResult,
    ReconcileResult,
)
from streams.publishing.adapters.http import (
    RateLimitMemory,
    TransportFailure,
    after_seconds,
    header,
    json_body,
    retry_after,
    send,
    short,
)

DEFAULT_BASE_URL = "https://discord.com/api/v10"
WEBHOOK_PATH = re.compile(r"/webhooks/(?P<id>\d{1,25})/(?P<token>[A-Za-z0-9_.-]{1,200})/?$")
MAX_CONTENT = 2000
# Options a target may set; everything else in `target` is ignored.
TARGET_FIELDS = ("username", "avatar_url", "thread_name", "tts")


def message_body(request: PublishRequest) -> dict[str, Any]:
    text = request.title if not request.description else f"{request.title}\n{request.description}"
    body: dict[str, Any] = {
        "content": text[:MAX_CONTENT],
        # User text must not ping @everyone or roles.
        "allowed_mentions": {"parse": []},
    }
    body.update({k: request.target[k] for k in TARGET_FIELDS if k in request.target})
    return body


class DiscordAdapter(Adapter):
    platform = "discord"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        clock: Callable[[], datetime],
        base_url: str = DEFAULT_BASE_URL,
    ) -> None:
        self._session = session
        self._clock = clock
        self._base = base_url.rstrip("/")
        self._limits = RateLimitMemory()

    async def publish(self, request: PublishRequest, checkpoint: Checkpoint) -> PublishResult:
        match = WEBHOOK_PATH.search(request.credentials.get("webhook_url", "").split("?")[0])
        if match is None:
            return Failed(
                ErrorClass.PERMANENT,
                None,
                "the Discord webhook URL is not of the form .../api/webhooks/<id>/<token>",
                connection_broken=True,
            )
        hook_id, token = match["id"], match["token"]
        now = self._clock()
        blocked = self._limits.blocked_until(hook_id, now)
        if blocked is not None:
            return Failed(
                ErrorClass.RATE_LIMITED,
                None,
                "Discord's rate limit bucket is empty",
                retry_at=blocked,
            )
        params: dict[str, str] = {"wait": "true"}
        if "thread_id" in request.target:
            params["thread_id"] = str(request.target["thread_id"])
        url = f"{self._base}/webhooks/{hook_id}/{token}"
        try:
            answer = await send(
                self._session, "POST", url, params=params, json=message_body(request)
            )
        except TransportFailure as exc:
            return exc.as_failed()
        self._limits.note(
            hook_id,
            header(answer.headers, "X-RateLimit-Remaining"),
            after_seconds(now, header(answer.headers, "X-RateLimit-Reset-After")),
        )
        if answer.status == 200:
            message = json_body(answer)
            if isinstance(message, dict) and isinstance(message.get("id"), str):
                return Published(message["id"], message_url(message))
            return Failed(ErrorClass.UNKNOWN_OUTCOME, 200, "Discord's answer had no message id")
        if answer.status == 204:
            # Only without wait=true, which we always send; posted, but the id is unknown.
            return Failed(ErrorClass.UNKNOWN_OUTCOME, 204, "Discord accepted without an id")
        return self.classify(answer, now)

    async def reconcile(self, request: PublishRequest) -> ReconcileResult:
        return CannotKnow(
            "Discord webhooks can't look up a message without its id: check the channel"
        )

    def classify(self, answer: Answer, now: datetime) -> Failed:
        status = answer.status
        body = json_body(answer)
        message = short(body.get("message", "")) if isinstance(body, dict) else ""
        if status == 429:
            seconds = body.get("retry_after") if isinstance(body, dict) else None
            when = (
                after_seconds(now, seconds)
                or after_seconds(now, header(answer.headers, "X-RateLimit-Reset-After"))
                or retry_after(answer.headers, now)
            )
            scope = header(answer.headers, "X-RateLimit-Scope") or "user"
            return Failed(
                ErrorClass.RATE_LIMITED, status, f"Discord rate limit ({scope})", retry_at=when
            )
        if status >= 500:
            return Failed(ErrorClass.TRANSIENT, status, f"Discord failed ({status})")
        if status == 404:
            return Failed(
                ErrorClass.PERMANENT,
                status,
                "the Discord webhook was deleted: add it again",
                connection_broken=True,
            )
        if status in (401, 403):
            return Failed(
                ErrorClass.PERMANENT,
                status,
                "Discord refused the webhook token (regenerated "
                f"or revoked): reconnect the webhook. {message}".strip(),
                connection_broken=True,
            )
        return Failed(ErrorClass.PERMANENT, status, f"Discord refused the message: {message}")


def message_url(message: dict[str, Any]) -> str | None:
    guild, channel = message.get("guild_id"), message.get("channel_id")
    if isinstance(guild, str) and isinstance(channel, str):
        return f"https://discord.com/channels/{guild}/{channel}/{message['id']}"
    return None
