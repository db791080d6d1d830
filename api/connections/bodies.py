"""The body of POST /v1/connections, and the per-platform rules of its credentials.

Credentials are checked by hand, not by pydantic models: pydantic's messages (and a
client's unknown field names) can carry the input, and nothing of a credential may
reach a response, a log line or the log. Every message here is a fixed phrase.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from api.problems import Loc, field_error

ConnectionPlatform = Literal["webhook", "discord", "youtube", "x"]
# Four fields of this size still seal within CreateConnection.sealed_credentials.
MAX_CREDENTIAL_CHARS = 2048
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
# The publisher takes only the id and token from it (streams/publishing/adapters/discord.py).
DISCORD_WEBHOOK = re.compile(
    r"^https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api(?:/v\d{1,2})?"
    r"/webhooks/\d{1,25}/[A-Za-z0-9_.-]{1,200}/?$"
)


class ConnectionBody(BaseModel):
    """What a client sends; ``credentials`` is write-only and checked by ``check_credentials``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: ConnectionPlatform
    name: str = Field(min_length=1, max_length=200)
    credentials: dict[str, Any] = Field(
        description="Per platform: webhook {url, secret}; discord {webhook_url}; "
        "youtube {access_token, refresh_token?, client_id?, client_secret?}; x {access_token}. "
        "Never echoed."
    )


Check = Callable[[str, bool], str | None]


def _https_url(value: str, allow_private: bool) -> str | None:
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        return "must be a valid URL"
    if not host or parts.scheme not in ("https", "http"):
        return "must be an https URL"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password"
    if allow_private:
        return None
    if parts.scheme != "https":
        return "must be an https URL"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        # A name: the publisher checks the address it resolves to when it connects.
        return None if host != "localhost" else "must not point to a private address"
    return None if address.is_global else "must not point to a private address"


def _webhook_secret(value: str, allow_private: bool) -> str | None:
    if not value.startswith(WEBHOOK_SECRET_PREFIX):
        return "must be a Standard Webhooks secret: whsec_ followed by base64"
    try:
        key = base64.b64decode(value[len(WEBHOOK_SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        key = b""
    return None if key else "must be a Standard Webhooks secret: whsec_ followed by base64"


def _discord_webhook(value: str, allow_private: bool) -> str | None:
    if DISCORD_WEBHOOK.match(value.split("?", 1)[0]):
        return None
    return "must be a Discord webhook URL: https://discord.com/api/webhooks/<id>/<token>"


def _token(value: str, allow_private: bool) -> str | None:
    return None if value.strip() and value.isprintable() else "must be a non-empty token"


# platform -> {field: (required, check)}
RULES: Mapping[str, Mapping[str, tuple[bool, Check]]] = {
    "webhook": {"url": (True, _https_url), "secret": (True, _webhook_secret)},
    "discord": {"webhook_url": (True, _discord_webhook)},
    "youtube": {
        "access_token": (True, _token),
        "refresh_token": (False, _token),
        "client_id": (False, _token),
        "client_secret": (False, _token),
    },
    "x": {"access_token": (True, _token)},
}


def check_credentials(
    platform: str, credentials: Mapping[str, Any], *, allow_private: bool
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The credentials as strings, and the field errors (empty when they are valid)."""
    rules = RULES[platform]
    loc: Loc = ["body", "credentials"]
    errors: list[dict[str, Any]] = []
    if set(credentials) - set(rules):
        # The names of unknown fields are not repeated: a misplaced secret could be one.
        errors.append(field_error(loc, f"unknown fields; {platform} takes {', '.join(rules)}"))
    clean: dict[str, str] = {}
    for name, (required, check) in rules.items():
        value = credentials.get(name)
        if value is None:
            if required:
                errors.append(field_error([*loc, name], "is required"))
            continue
        if not isinstance(value, str):
            errors.append(field_error([*loc, name], "must be a string"))
            continue
        if len(value) > MAX_CREDENTIAL_CHARS or "\x00" in value:
            errors.append(
                field_error(
                    [*loc, name], f"must be at most {MAX_CREDENTIAL_CHARS} characters, no NUL"
                )
            )
            continue
        reason = check(value, allow_private)
        if reason is not None:
            errors.append(field_error([*loc, name], reason))
            continue
        clean[name] = value
    return clean, errors
