"""Plain webhooks: POST JSON to the connection's URL, signed per Standard Webhooks.

`webhook-id` is the attempt id, so a receiver that dedupes (as the spec asks) turns a
re-send of the same attempt into a no-op: that is how an unknown outcome is reconciled.
2xx is success, 410 disables the connection, 429/502/503/504 throttle, redirects are
not followed (the target could be anywhere) and count as a misconfigured URL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
from yarl import URL

from streams.publishing.adapters.base import (
    Adapter,
    Answer,
    Checkpoint,
    ErrorClass,
    Failed,
    Published,
    PublishRequest,
    PublishResult,
    ReconcileResult,
    ResendSafe,
)
from streams.publishing.adapters.http import TransportFailure, retry_after, send
from streams.publishing.signing import InvalidSecret, sign_headers

EVENT_TYPE = "wavestack.post"
THROTTLE = {429, 502, 503, 504}


def payload(request: PublishRequest, timestamp: datetime) -> dict[str, Any]:
    return {
        "type": EVENT_TYPE,
        "timestamp": timestamp.isoformat(),
        "data": {
            "item_id": request.item_id,
            "attempt_id": request.attempt_id,
            "title": request.title,
            "description": request.description,
            "target": dict(request.target),
        },
    }


class WebhookAdapter(Adapter):
    platform = "webhook"

    def __init__(self, session: aiohttp.ClientSession, clock: Callable[[], datetime]) -> None:
        self._session = session
        self._clock = clock

    async def publish(self, request: PublishRequest, checkpoint: Checkpoint) -> PublishResult:
        url = request.credentials.get("url", "")
        parsed = URL(url) if url else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            return Failed(ErrorClass.PERMANENT, None, "the webhook URL is not a valid URL")
        now = self._clock()
        body = json.dumps(payload(request, now), separators=(",", ":")).encode()
        try:
            headers = sign_headers(
                [request.credentials.get("secret", "")],
                request.attempt_id,
                int(now.timestamp()),
                body,
            )
        except InvalidSecret as exc:
            return Failed(ErrorClass.PERMANENT, None, f"the webhook secret is unusable: {exc}")
        headers["Content-Type"] = "application/json"
        try:
            answer = await send(self._session, "POST", url, data=body, headers=headers)
        except TransportFailure as exc:
            return exc.as_failed()
        if 200 <= answer.status < 300:
            return Published(post_id=request.attempt_id)
        return self.classify(answer, now)

    async def reconcile(self, request: PublishRequest) -> ReconcileResult:
        # No read API exists; the receiver's dedupe on webhook-id is the reconciliation.
        return ResendSafe("receivers dedupe on webhook-id: re-send the same attempt")

    def classify(self, answer: Answer, now: datetime) -> Failed:
        status = answer.status
        if status == 410:
            return Failed(
                ErrorClass.PERMANENT,
                status,
                "the receiver answered 410 Gone: endpoint disabled",
                connection_broken=True,
            )
        if status in THROTTLE:
            when = retry_after(answer.headers, now)
            kind = ErrorClass.RATE_LIMITED if when or status == 429 else ErrorClass.TRANSIENT
            return Failed(kind, status, f"the receiver is throttling ({status})", retry_at=when)
        if status >= 500 or status == 408:
            return Failed(ErrorClass.TRANSIENT, status, f"the receiver failed ({status})")
        if 300 <= status < 400:
            return Failed(
                ErrorClass.PERMANENT,
                status,
                "the receiver redirected; webhooks don't follow redirects: use the final URL",
            )
        if status in (401, 403):
            return Failed(
                ErrorClass.PERMANENT,
                status,
                f"the receiver refused the delivery ({status}): "
                "check that it has the connection's current secret",
                connection_broken=True,
            )
        if status == 404:
            return Failed(
                ErrorClass.PERMANENT,
                status,
                "the receiver answered 404: the webhook URL is gone",
                connection_broken=True,
            )
        return Failed(ErrorClass.PERMANENT, status, f"the receiver refused the delivery ({status})")
