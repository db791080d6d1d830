"""The bodies of POST /v1/webhooks and /replay, and the rules of a subscriber's URL."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.problems import field_error
from schemas.catalog import EVENT_TYPES
from schemas.webhooks import MAX_EVENT_TYPES, MAX_URL_CHARS, subscribable

KNOWN_TYPES = frozenset(EVENT_TYPES)


class WebhookBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=MAX_URL_CHARS,
        description="https (http only "
        "where WAVESTACK_EGRESS_ALLOW_PRIVATE is set); public addresses only",
    )
    event_types: list[str] = Field(
        min_length=1,
        max_length=MAX_EVENT_TYPES,
        description="Event types to deliver, e.g. queue.ItemPublished (docs/event-catalog.md)",
    )
    description: str = Field(default="", max_length=500)


class ReplayBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    since: AwareDatetime = Field(description="Re-deliver matching events that occurred since")


def url_problem(value: str, allow_private: bool) -> str | None:
    """Why ``value`` cannot be a subscriber's URL, or None. The delivery process checks
    the address it actually connects to as well (DNS rebinding)."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        return "must be a valid URL"
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed or not host:
        return "must be an https URL"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password"
    if any(c.isspace() or ord(c) < 0x21 for c in value):
        return "must not contain spaces or control characters"
    if allow_private:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "must not point to a private address"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: checked on the address it resolves to, when delivering
    return None if address.is_global else "must not point to a private address"


def check(body: WebhookBody, allow_private: bool) -> list[dict[str, Any]]:
    errors = []
    reason = url_problem(body.url, allow_private)
    if reason is not None:
        errors.append(field_error(["body", "url"], reason))
    for i, kind in enumerate(body.event_types):
        if not subscribable(kind, KNOWN_TYPES):
            # The value is not repeated: it is the client's text, of any length.
            errors.append(
                field_error(["body", "event_types", i], "not an event type one can subscribe to")
            )
    if len(set(body.event_types)) != len(body.event_types):
        errors.append(field_error(["body", "event_types"], "lists a type twice"))
    return errors
