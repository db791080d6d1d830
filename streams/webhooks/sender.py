"""One signed POST to a subscriber, through the publisher's egress-checked HTTP session."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

import aiohttp

from streams.publishing.adapters import http
from streams.publishing.signing import sign_headers
from streams.webhooks.attempts import Answer

USER_AGENT = "WaveStack-Webhooks/1"


async def post(
    session: aiohttp.ClientSession,
    url: str,
    secrets: Sequence[str],
    webhook_id: str,
    body: bytes,
    timeout_seconds: float,
    now: datetime,
) -> Answer:
    """Signs with every secret (several ``v1,`` signatures during a rotation) and posts.

    Summaries never carry the URL or the answer's body beyond a short status phrase: a
    subscriber's URL may hold a token, and its error page is not ours to store.
    """
    headers = sign_headers(secrets, webhook_id, int(time.time()), body)
    headers["content-type"] = "application/json"
    headers["user-agent"] = USER_AGENT
    try:
        answer = await http.send(
            session,
            "POST",
            url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        )
    except http.TransportFailure as exc:
        return Answer(None, exc.summary, permanent=exc.refused)
    wait = http.retry_after(answer.headers, now)
    return Answer(
        answer.status,
        f"HTTP {answer.status}",
        retry_after=None if wait is None else wait - now,
    )
