"""One signed POST to a subscriber, through the publisher's egress-checked HTTP session."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiohttp

from streams.publishing.adapters import http
from streams.publishing.egress import EgressConnector
from streams.publishing.signing import secret_key
from streams.webhooks.attempts import Answer

USER_AGENT = "WaveStack-Webhooks/1"


def create_session(*, allow_private: bool) -> aiohttp.ClientSession:
    """The delivery process's session: egress-checked like the publisher's, but without
    the connector's pool limits (100 in all, 10 per host). Those would let a few stuck
    subscribers hold every connection, or every connection to a host that several
    organizations use; the per-subscription lanes and the dispatcher's cap bound the
    requests instead. Connections are kept alive and reused per host, so a busy
    subscriber costs no TCP handshake per delivery."""
    connector = EgressConnector(allow_private=allow_private, limit=0, limit_per_host=0)
    # trust_env=False: no proxy from the environment can bypass the egress check.
    return aiohttp.ClientSession(connector=connector, trust_env=False)


@dataclass(frozen=True)
class Signer:
    """A subscription's live secrets, decoded once (newest first).

    Standard Webhooks signs ``id.timestamp.body``, so every attempt is signed anew (its
    timestamp is its own); what is done once per live set is decoding the secrets.
    """

    keys: tuple[bytes, ...]

    @classmethod
    def of(cls, secrets: Sequence[str]) -> Signer:
        if not secrets:
            raise ValueError("at least one webhook secret is needed")
        return cls(tuple(secret_key(s) for s in secrets))

    def headers(self, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        signed = f"{msg_id}.{timestamp}.".encode() + body
        signatures = " ".join(
            "v1," + base64.b64encode(hmac.digest(key, signed, hashlib.sha256)).decode("ascii")
            for key in self.keys
        )
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures,
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }


async def post(
    session: aiohttp.ClientSession,
    url: str,
    signer: Signer,
    webhook_id: str,
    body: bytes,
    limit: aiohttp.ClientTimeout,
    now: datetime,
) -> Answer:
    """Signs with every live secret (several ``v1,`` signatures during a rotation) and posts.

    Summaries never carry the URL or the answer's body beyond a short status phrase: a
    subscriber's URL may hold a token, and its error page is not ours to store.
    """
    headers = signer.headers(webhook_id, int(time.time()), body)
    try:
        answer = await http.send(session, "POST", url, data=body, headers=headers, timeout=limit)
    except http.TransportFailure as exc:
        return Answer(None, exc.summary, permanent=exc.refused)
    wait = http.retry_after(answer.headers, now)
    return Answer(
        answer.status,
        f"HTTP {answer.status}",
        retry_after=None if wait is None else wait - now,
    )
