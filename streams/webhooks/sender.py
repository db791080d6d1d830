"""One signed POST to a subscriber, through the publisher's egress-checked HTTP session."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

import aiohttp

from streams.publishing.adapters import http
from streams.publishing.egress import EgressConnector
from streams.publishing.signing import sign_headers
from streams.webhooks.attempts import Answer

USER_AGENT = "WaveStack-Webhooks/1"


def create_session(*, allow_private: bool) -> aiohttp.ClientSession:
    """The delivery process's session: egress-checked like the publisher's, but without
    the connector's pool limits (100 in all, 10 per host). Those would let a few stuck
    subscribers hold every connection, or every connection to a host that several
    organizations use; the per-subscription lanes and the dispatcher's cap bound the
    requests instead."""
    connector = EgressConnector(allow_private=allow_private, limit=0, limit_per_host=0)
    # trust_env=False: no proxy from the environment can bypass the egress check.
    return aiohttp.ClientSession(connector=connector, trust_env=False)


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
