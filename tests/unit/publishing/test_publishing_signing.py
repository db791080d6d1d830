"""Our Standard Webhooks signatures verify with the reference implementation."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from streams.publishing.signing import (
    InvalidSecret,
    SignatureMismatch,
    sign_headers,
    signature,
    verify,
)

SECRET = "whsec_" + base64.b64encode(b"a-32-byte-long-webhook-secret!!!").decode()
OTHER = "whsec_" + base64.b64encode(b"another-secret-of-some-length").decode()
BODY = b'{"type":"wavestack.post","data":{"title":"caf\xc3\xa9"}}'


def test_reference_implementation_verifies_our_signature() -> None:
    now = int(time.time())
    headers = sign_headers([SECRET], "msg_1", now, BODY)
    assert Webhook(SECRET).verify(BODY, headers) == {
        "type": "wavestack.post",
        "data": {"title": "café"},
    }


def test_our_signature_equals_the_reference_one() -> None:
    stamp = 1_700_000_000
    ours = signature(SECRET, "msg_1", stamp, BODY)
    theirs = Webhook(SECRET).sign("msg_1", datetime.fromtimestamp(stamp, UTC), BODY.decode())
    assert ours == theirs


def test_each_rotation_secret_signs_and_each_verifies() -> None:
    now = int(time.time())
    headers = sign_headers([OTHER, SECRET], "msg_2", now, BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(SECRET).verify(BODY, headers)
    Webhook(OTHER).verify(BODY, headers)


def test_reference_rejects_a_changed_body() -> None:
    headers = sign_headers([SECRET], "msg_3", int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY + b" ", headers)


def test_our_verifier_accepts_ours_and_refuses_stale_or_foreign() -> None:
    now = int(time.time())
    headers = sign_headers([SECRET], "msg_4", now, BODY)
    assert verify(SECRET, headers, BODY, now=now) == "msg_4"
    with pytest.raises(SignatureMismatch):
        verify(SECRET, headers, BODY, now=now + 301)
    with pytest.raises(SignatureMismatch):
        verify(OTHER, headers, BODY, now=now)
    with pytest.raises(SignatureMismatch):
        verify(SECRET, {"webhook-id": "x"}, BODY, now=now)


@pytest.mark.parametrize("secret", ["c2VjcmV0", "whsec_", "whsec_not*base64"])
def test_malformed_secrets_are_refused(secret: str) -> None:
    with pytest.raises(InvalidSecret):
        signature(secret, "id", 1, BODY)


def test_signing_needs_a_secret() -> None:
    with pytest.raises(InvalidSecret):
        sign_headers([], "id", 1, BODY)
