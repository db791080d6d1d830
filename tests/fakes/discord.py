"""Discord's Execute Webhook: `?wait=true` answers the message, rate-limit headers, 404/401."""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeServer, Scripted, read_json

MAX_CONTENT = 2000


@dataclass
class Hook:
    token: str
    channel_id: str
    guild_id: str
    sent: list[float] = field(default_factory=list)


class FakeDiscord(FakeServer):
    """Serves `/api/v10/webhooks/{id}/{token}` (and the unversioned `/api/...`)."""

    def __init__(self, limit: int = 5, window: float = 2.0) -> None:
        super().__init__()
        self.limit, self.window = limit, window
        self.hooks: dict[str, Hook] = {}
        self.messages: list[dict[str, Any]] = []
        self._ids = itertools.count(1_234_567_890_123_456_789)
        for prefix in ("/api/v10", "/api"):
            self.app.router.add_post(prefix + "/webhooks/{id}/{token}", self._execute)

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    def create_webhook(self) -> str:
        hook_id = str(next(self._ids))
        self.hooks[hook_id] = Hook(
            secrets.token_urlsafe(48), str(next(self._ids)), str(next(self._ids))
        )
        # The URL a user copies from Discord's settings.
        return f"https://discord.com/api/webhooks/{hook_id}/{self.hooks[hook_id].token}"

    def delete_webhook(self, url: str) -> None:
        del self.hooks[url.split("/")[-2]]

    def regenerate_token(self, url: str) -> None:
        self.hooks[url.split("/")[-2]].token = secrets.token_urlsafe(48)

    def _limits(self, hook: Hook) -> dict[str, str]:
        now = time.time()
        hook.sent[:] = [t for t in hook.sent if t > now - self.window]
        reset_after = (hook.sent[0] + self.window - now) if hook.sent else self.window
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.limit - len(hook.sent), 0)),
            "X-RateLimit-Reset": f"{now + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": "fakebucket" + str(id(hook)),
        }

    async def _execute(self, request: web.Request) -> web.StreamResponse:
        hook = self.hooks.get(request.match_info["id"])
        if hook is None:
            return web.json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        if not secrets.compare_digest(hook.token, request.match_info["token"]):
            return web.json_response(
                {"message": "Invalid Webhook Token", "code": 50027}, status=401
            )

        async def perform() -> web.StreamResponse:
            headers = self._limits(hook)
            if int(headers["X-RateLimit-Remaining"]) == 0:
                return self.rate_limited(float(headers["X-RateLimit-Reset-After"])).response()
            body = await read_json(request)
            if not isinstance(body, dict) or (not body.get("content") and not body.get("embeds")):
                return web.json_response(
                    {"message": "Cannot send an empty message", "code": 50006}, status=400
                )
            if len(str(body.get("content", ""))) > MAX_CONTENT:
                return web.json_response(
                    {
                        "message": "Invalid Form Body",
                        "code": 50035,
                        "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}},
                    },
                    status=400,
                )
            hook.sent.append(time.time())
            message = {
                "id": str(next(self._ids)),
                "type": 0,
                "content": body.get("content", ""),
                "channel_id": hook.channel_id,
                "guild_id": hook.guild_id,
                "webhook_id": request.match_info["id"],
                "author": {
                    "id": request.match_info["id"],
                    "username": body.get("username", "hook"),
                    "bot": True,
                },
                "timestamp": "2026-03-01T12:00:00.000000+00:00",
                "allowed_mentions": body.get("allowed_mentions"),
            }
            self.messages.append(message)
            headers = self._limits(hook)
            if request.query.get("wait", "false").lower() != "true":
                return web.Response(status=204, headers=headers)
            return web.json_response(message, headers=headers)

        return await self.answer("execute", perform)

    @staticmethod
    def rate_limited(retry_after: float, scope: str = "user") -> Scripted:
        return Scripted(
            429,
            {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
            {
                "Retry-After": str(int(retry_after) + 1),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                "X-RateLimit-Bucket": "fakebucket",
                "X-RateLimit-Scope": scope,
            },
        )

    @staticmethod
    def server_error() -> Scripted:
        return Scripted(500, {"message": "500: Internal Server Error", "code": 0})
