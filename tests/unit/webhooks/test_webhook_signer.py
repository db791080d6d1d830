"""The delivery process's signer (secrets decoded once per live set) signs as Standard
Webhooks says: the reference implementation verifies each secret's signature."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from streams.publishing.signing import sign_headers
from streams.webhooks.sender import Signer

NEW = "whsec_" + base64.b64encode(b"the-newest-secret-of-a-rotation").decode()
OLD = "whsec_" + base64.b64encode(b"the-secret-that-is-rotating-out").decode()
BODY = b'{"type":"project.ProjectCreated","data":{"name":"caf\xc3\xa9"}}'


def test_during_a_rotation_the_reference_verifies_with_either_secret() -> None:
    now = int(time.time())
    headers = Signer.of([NEW, OLD]).headers("evt_1", now, BODY)
    assert headers["content-type"] == "application/json"
    for secret in (NEW, OLD):
        assert Webhook(secret).verify(BODY, headers)["data"] == {"name": "café"}
    stranger = "whsec_" + base64.b64encode(b"a-secret-nobody-was-given").decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(stranger).verify(BODY, headers)


def test_the_signer_signs_exactly_as_the_shared_signing_module() -> None:
    stamp = 1_700_000_000
    ours = Signer.of([NEW, OLD]).headers("evt_2", stamp, BODY)
    shared = sign_headers([NEW, OLD], "evt_2", stamp, BODY)
    assert {k: ours[k] for k in shared} == shared


def test_a_signer_needs_a_secret_and_refuses_a_malformed_one() -> None:
    with pytest.raises(ValueError):
        Signer.of([])
    with pytest.raises(ValueError):
        Signer.of(["not-a-webhook-secret"])
