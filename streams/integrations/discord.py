"""Sending a follow-up message on an interaction: ``POST /webhooks/{application}/{token}``.

The token is the credential (no auth header), so neither it nor the URL is ever
logged. A 404/401 means the token expired or was never valid: nothing more to try.
"""

from __future__ import annotations

import asyncio
from enum import Enum

import aiohttp
import structlog

log = structlog.get_logger("streams.integrations")

ATTEMPTS = 3
TIMEOUT = aiohttp.ClientTimeout(total=10)
MAX_WAIT_SECONDS = 10.0


class Sent(Enum):
    SENT = "sent"
    GONE = "gone"  # the token is no longer valid: stop trying
    FAILED = "failed"  # Discord kept failing: left for a redelivery, until the token expires


def _retry_after(response: aiohttp.ClientResponse, attempt: int) -> float:
    try:
        wait = float(response.headers.get("Retry-After", ""))
    except ValueError:
        wait = 2.0**attempt
    return min(max(wait, 0.1), MAX_WAIT_SECONDS)


async def send_followup(
    session: aiohttp.ClientSession, base_url: str, application_id: str, token: str, content: str
) -> Sent:
    url = f"{base_url.rstrip('/')}/webhooks/{application_id}/{token}"
    body = {"content": content, "allowed_mentions": {"parse": []}}
    for attempt in range(ATTEMPTS):
        try:
            async with session.post(url, json=body, timeout=TIMEOUT) as response:
                if response.status < 300:
                    return Sent.SENT
                if response.status in (401, 403, 404):
                    return Sent.GONE
                wait = _retry_after(response, attempt)
                status: int | str = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            wait, status = 2.0**attempt, type(exc).__name__
        log.warning(
            "followup_retry", attempt=attempt + 1, status=status, application_id=application_id
        )
        await asyncio.sleep(wait)
    return Sent.FAILED
