"""The delivery process's session refuses private addresses and plain http (the
address actually connected to), and such a delivery is dead at once."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest

from streams.webhooks.attempts import judge
from streams.webhooks.sender import Signer, create_session, post
from tests.integration.webhooks.support import Receiver

SECRET = "whsec_" + "ZWdyZXNzLXRlc3Qtc2VjcmV0LWtleS0wMTIzNDU2Nzg="
TIMEOUT = aiohttp.ClientTimeout(total=5.0)


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1:{port}/hooks/x", "http://127.0.0.1:{port}/hooks/x"]
)
async def test_a_private_or_plain_http_address_is_refused_when_delivering(
    receiver: Receiver, url: str
) -> None:
    port = receiver.base.rsplit(":", 1)[1]
    now = datetime.now(UTC)
    async with create_session(allow_private=False) as session:
        answer = await post(
            session, url.format(port=port), Signer.of([SECRET]), "evt_1", b"{}", TIMEOUT, now
        )
    assert answer.status is None and answer.permanent
    assert judge(answer, 1, [5.0], now).outcome == "dead"
    assert receiver.requests == []  # not a byte reached it


async def test_with_private_egress_allowed_the_same_receiver_is_reached(receiver: Receiver) -> None:
    now = datetime.now(UTC)
    async with create_session(allow_private=True) as session:
        answer = await post(
            session, receiver.url("x"), Signer.of([SECRET]), "evt_2", b"{}", TIMEOUT, now
        )
    assert answer.status == 200
    [request] = receiver.requests
    request.verified(SECRET)
