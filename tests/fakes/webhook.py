"""A Standard Webhooks receiver: verifies with the reference library, dedupes on webhook-id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.fakes.base import FakeServer, Scripted


@dataclass(frozen=True)
class Delivery:
    webhook_id: str
    payload: Any


class FakeWebhookReceiver(FakeServer):
    """`POST /hooks/{name}`: 401 on a bad signature, 2xx once per webhook-id."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.deliveries: list[Delivery] = []
        self.attempts = 0
        self.app.router.add_post("/hooks/{name}", self._deliver)

    def url(self, name: str = "main") -> str:
        return f"{self.base_url}/hooks/{name}"

    async def _deliver(self, request: web.Request) -> web.StreamResponse:
        async def perform() -> web.StreamResponse:
            self.attempts += 1
            body = await request.read()
            try:
                payload = Webhook(self.secret).verify(body, dict(request.headers))
            except WebhookVerificationError:
                return web.json_response({"error": "bad signature"}, status=401)
            webhook_id = request.headers["webhook-id"]
            if all(d.webhook_id != webhook_id for d in self.deliveries):
                self.deliveries.append(Delivery(webhook_id, payload))
            return web.json_response({"received": webhook_id})

        return await self.answer("deliver", perform)

    # The unpleasant answers a receiver gives.
    @staticmethod
    def server_error() -> Scripted:
        return Scripted(500, {"error": "boom"})

    @staticmethod
    def throttled(retry_after: int) -> Scripted:
        return Scripted(429, None, {"Retry-After": str(retry_after)})

    @staticmethod
    def gone() -> Scripted:
        return Scripted(410, None)

    @staticmethod
    def unauthorized() -> Scripted:
        return Scripted(401, {"error": "bad signature"})
