"""Discord's side of an interactions endpoint: it signs interactions with the
application's Ed25519 key (X-Signature-Ed25519 over timestamp + body) and serves the
interaction webhook that follow-ups go to (`POST /webhooks/{application}/{token}`),
valid 15 minutes per token (PLATFORMS.md, Discord)."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.fakes.base import FakeServer, read_json

TOKEN_LIFETIME = 15 * 60


@dataclass(frozen=True)
class Interaction:
    id: str
    token: str
    body: bytes


class FakeDiscordApplication(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1_100_000_000_000_000_000)
        self.application_id = str(next(self._ids))
        self._key = Ed25519PrivateKey.generate()
        self.tokens: dict[str, float] = {}  # token -> issued at
        self.followups: list[dict[str, Any]] = []
        for prefix in ("/api/v10", "/api"):
            self.app.router.add_post(prefix + "/webhooks/{application}/{token}", self._followup)

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def public_key(self) -> str:
        return self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    def sign(self, timestamp: str, body: bytes) -> str:
        return self._key.sign(timestamp.encode() + body).hex()

    def headers(
        self, body: bytes, *, timestamp: str | None = None, forge: bool = False
    ) -> dict[str, str]:
        stamp = timestamp or str(int(time.time()))
        signature = self.sign(stamp, body)
        if forge:  # what Discord sends on purpose to test an endpoint: a wrong signature
            signature = Ed25519PrivateKey.generate().sign(stamp.encode() + body).hex()
        return {
            "X-Signature-Ed25519": signature,
            "X-Signature-Timestamp": stamp,
            "Content-Type": "application/json",
        }

    def ping(self) -> bytes:
        return json.dumps(
            {
                "id": str(next(self._ids)),
                "application_id": self.application_id,
                "type": 1,
                "token": "x",
                "version": 1,
            }
        ).encode()

    def command(self, name: str, options: dict[str, Any] | None = None) -> Interaction:
        interaction_id = str(next(self._ids))
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(60)
        self.tokens[token] = time.time()
        payload = {
            "id": interaction_id,
            "application_id": self.application_id,
            "type": 2,
            "token": token,
            "version": 1,
            "guild_id": "1",
            "channel_id": "2",
            "member": {"user": {"id": "3", "username": "someone"}},
            "data": {
                "id": "4",
                "name": name,
                "type": 1,
                "options": [
                    {"name": k, "type": 3 if isinstance(v, str) else 10, "value": v}
                    for k, v in (options or {}).items()
                ],
            },
        }
        return Interaction(interaction_id, token, json.dumps(payload).encode())

    async def _followup(self, request: web.Request) -> web.StreamResponse:
        issued = self.tokens.get(request.match_info["token"])
        if (
            request.match_info["application"] != self.application_id
            or issued is None
            or (time.time() - issued > TOKEN_LIFETIME)
        ):
            return web.json_response({"message": "Unknown Webhook", "code": 10015}, status=404)

        async def perform() -> web.StreamResponse:
            body = await read_json(request)
            if not isinstance(body, dict) or not body.get("content"):
                return web.json_response(
                    {"message": "Cannot send an empty message", "code": 50006}, status=400
                )
            message = {
                "id": str(next(self._ids)),
                "content": body["content"],
                "token": request.match_info["token"],
            }
            self.followups.append(message)
            return web.json_response(message)

        return await self.answer("followup", perform)
