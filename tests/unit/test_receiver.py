"""The dev receiver: verified deliveries printed once, bad signatures refused."""

from __future__ import annotations

import time

import pytest
from aiohttp.test_utils import TestClient, TestServer

from streams.publishing.signing import sign_headers
from wavestack.receiver import VERIFIED, create_receiver, main

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"type":"wavestack.post","data":{"item_id":"i-1","title":"Hello"}}'


async def test_a_signed_delivery_is_printed_once_and_a_forged_one_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    headers = sign_headers([SECRET], "att_1", int(time.time()), BODY)
    async with TestClient(TestServer(create_receiver(SECRET))) as client:
        for _ in range(2):
            resp = await client.post("/hook", data=BODY, headers=headers)
            assert resp.status == 200
        forged = {**headers, "webhook-signature": "v1,AAAA"}
        resp = await client.post("/hook", data=BODY, headers=forged)
        assert resp.status == 401
    out = capsys.readouterr().out
    assert out.count(VERIFIED) == 1
    assert "item=i-1 title='Hello'" in out
    assert "refused delivery" in out


def test_a_secret_not_in_the_whsec_form_is_refused_at_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--secret", "plain"]) == 2
    assert "whsec_" in capsys.readouterr().err
