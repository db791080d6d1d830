"""Per-platform credential rules: valid bodies pass, and no message repeats a value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.connections.bodies import check_credentials

SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQ="
DISCORD = "https://discord.com/api/webhooks/123456/tok-en_1"


@pytest.mark.parametrize(
    ("platform", "credentials"),
    [
        ("webhook", {"url": "https://hooks.example.com/in", "secret": SECRET}),
        ("discord", {"webhook_url": DISCORD}),
        ("youtube", {"access_token": "ya29.a", "refresh_token": "1//r"}),
        ("x", {"access_token": "AAAA"}),
    ],
)
def test_valid_credentials_pass_unchanged(platform: str, credentials: dict[str, str]) -> None:
    assert check_credentials(platform, credentials, allow_private=False) == (credentials, [])


@pytest.mark.parametrize(
    ("platform", "credentials", "field"),
    [
        ("webhook", {"url": "https://hooks.example.com/in"}, "secret"),
        ("webhook", {"url": "https://hooks.example.com/in", "secret": "hunter2-plain"}, "secret"),
        ("webhook", {"url": "https://hooks.example.com/in", "secret": "whsec_!!notb64"}, "secret"),
        ("webhook", {"url": "http://hooks.example.com/in", "secret": SECRET}, "url"),
        ("webhook", {"url": "https://127.0.0.1/in", "secret": SECRET}, "url"),
        ("webhook", {"url": "https://[::1]/in", "secret": SECRET}, "url"),
        ("webhook", {"url": "https://169.254.169.254/x", "secret": SECRET}, "url"),
        ("webhook", {"url": "https://user:pw-secret@example.com/", "secret": SECRET}, "url"),
        ("discord", {"webhook_url": "https://evil.example.com/api/webhooks/1/tok"}, "webhook_url"),
        ("youtube", {"refresh_token": "1//only-refresh"}, "access_token"),
        ("youtube", {"access_token": "ya29.a", "client_secret": 12345}, "client_secret"),
        ("x", {"access_token": ""}, "access_token"),
        ("x", {"access_token": "A" * 5000}, "access_token"),
    ],
)
def test_invalid_credentials_name_the_field_and_never_the_value(
    platform: str, credentials: dict[str, Any], field: str
) -> None:
    clean, errors = check_credentials(platform, credentials, allow_private=False)
    assert field not in clean
    assert [e["loc"] for e in errors] == [["body", "credentials", field]]
    text = json.dumps(errors)
    for value in credentials.values():
        assert not str(value) or str(value) not in text


def test_unknown_credential_fields_are_refused_without_their_names() -> None:
    _, errors = check_credentials(
        "x", {"access_token": "AAAA", "whsec_leaked": "v"}, allow_private=False
    )
    assert [e["loc"] for e in errors] == [["body", "credentials"]]
    assert "whsec_leaked" not in json.dumps(errors)


def test_egress_allow_private_admits_plain_http_and_private_addresses() -> None:
    creds = {"url": "http://127.0.0.1:8080/hook", "secret": SECRET}
    assert check_credentials("webhook", creds, allow_private=True) == (creds, [])
