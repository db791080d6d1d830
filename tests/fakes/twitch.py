"""Twitch EventSub as it calls a webhook callback: the headers, the HMAC and the bodies
(PLATFORMS.md, Twitch; twitch-cli's forward_event.go builds the same)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

CHAT = "channel.chat.message"


def twitch_timestamp(at: datetime) -> str:
    """RFC 3339 with nanoseconds, as Twitch sends it."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


class FakeTwitch:
    """Signs and sends EventSub messages of one subscription to a callback URL."""

    def __init__(self, secret: str, broadcaster_user_id: str = "1337") -> None:
        self.secret = secret
        self.broadcaster_user_id = broadcaster_user_id
        self.subscription_id = str(uuid.uuid4())

    def signature(self, message_id: str, timestamp: str, body: bytes) -> str:
        mac = hmac.new(
            self.secret.encode(), message_id.encode() + timestamp.encode() + body, hashlib.sha256
        )
        return "sha256=" + mac.hexdigest()

    def _subscription(self, status: str, kind: str = CHAT) -> dict[str, Any]:
        return {
            "id": self.subscription_id,
            "status": status,
            "type": kind,
            "version": "1",
            "condition": {"broadcaster_user_id": self.broadcaster_user_id, "user_id": "42"},
            "transport": {"method": "webhook", "callback": "https://example.invalid/eventsub"},
            "created_at": "2026-12-01T00:00:00.000000000Z",
        }

    def verification(self, challenge: str) -> dict[str, Any]:
        return {
            "challenge": challenge,
            "subscription": self._subscription("webhook_callback_verification_pending"),
        }

    def revocation(self, reason: str = "authorization_revoked") -> dict[str, Any]:
        return {"subscription": self._subscription(reason)}

    def chat(
        self,
        text: str,
        *,
        badges: tuple[str, ...] = (),
        chatter_user_id: str = "42",
    ) -> dict[str, Any]:
        return {
            "subscription": self._subscription("enabled"),
            "event": {
                "broadcaster_user_id": self.broadcaster_user_id,
                "broadcaster_user_login": "streamer",
                "broadcaster_user_name": "Streamer",
                "chatter_user_id": chatter_user_id,
                "chatter_user_login": "chatter",
                "chatter_user_name": "Chatter",
                "message_id": str(uuid.uuid4()),
                "message": {"text": text, "fragments": [{"type": "text", "text": text}]},
                "message_type": "text",
                "badges": [{"set_id": b, "id": "1", "info": ""} for b in badges],
                "cheer": None,
                "color": "#00FF00",
                "reply": None,
                "channel_points_custom_reward_id": None,
            },
        }

    def headers(
        self,
        kind: str,
        body: bytes,
        *,
        message_id: str | None = None,
        at: datetime | None = None,
        signature: str | None = None,
    ) -> dict[str, str]:
        message_id = message_id or str(uuid.uuid4())
        timestamp = twitch_timestamp(at or datetime.now(UTC))
        return {
            "Twitch-Eventsub-Message-Id": message_id,
            "Twitch-Eventsub-Message-Retry": "0",
            "Twitch-Eventsub-Message-Type": kind,
            "Twitch-Eventsub-Message-Timestamp": timestamp,
            "Twitch-Eventsub-Message-Signature": signature
            or self.signature(message_id, timestamp, body),
            "Twitch-Eventsub-Subscription-Type": CHAT,
            "Twitch-Eventsub-Subscription-Version": "1",
            "Content-Type": "application/json",
        }

    @staticmethod
    def body(payload: dict[str, Any]) -> bytes:
        return json.dumps(payload).encode()


STALE = timedelta(minutes=11)


async def send(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str, str]:
    """(status, content type, text) of one delivery."""
    async with session.post(url, data=body, headers=headers) as resp:
        return resp.status, resp.content_type, await resp.text()
