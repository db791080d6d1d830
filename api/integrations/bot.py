"""The token-less actor an integration acts as, and the answers its endpoints share."""

from __future__ import annotations

from typing import Any

from api.auth.principal import Principal
from api.integrations.reads import Bound
from api.problems import Problem


def bot_principal(integration: Bound) -> Principal:
    """Exactly the integration's scopes, in exactly its organization."""
    return Principal(
        org_id=integration.org_id,
        sub=f"integration:{integration.id}",
        kind="bot",
        scopes=frozenset(integration.scopes),
    )


def bad_signature(
    status: int, detail: str = "the request signature is missing or invalid"
) -> Problem:
    # Fixed text: nothing of the request (least of all its body) is echoed or logged.
    return Problem(status, detail, kind="bad-signature", title="Invalid signature")


def malformed(detail: str) -> Problem:
    return Problem(400, detail, kind="malformed-json", title="Malformed request")


def text(value: Any, max_chars: int) -> str | None:
    """``value`` when it is a string of 1..max_chars characters without NUL, else None."""
    if isinstance(value, str) and 0 < len(value) <= max_chars and "\x00" not in value:
        return value
    return None
