"""Hides what looks secret before a payload is shown on an operator's screen.

A dead letter may carry anything a client or a platform sent: tokens in a target,
a webhook's signing secret, a sealed credential. Showing a letter must not copy
those into terminals, tickets and chat; the replay still sends the original bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any

REDACTED = "[redacted]"

# Key names that hold secrets (matched anywhere in the name, case-insensitively).
SECRET_KEY = re.compile(
    r"secret|token|passw|pwd|authoriz|api[_-]?key|credential|private|cookie|session"
    r"|signature|sealed|cipher|bearer|\bkey\b|_key$|^key$",
    re.IGNORECASE,
)
# Values that are secrets whatever their key: JWTs, bearer/basic credentials, PEM
# blocks, URLs with a password.
SECRET_VALUE = re.compile(
    r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
    r"|\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"
    r"|-----BEGIN [A-Z ]+-----"
    r"|://[^/\s:@]+:[^/\s@]+@",
    re.IGNORECASE,
)
# Not secrets though the names match: the envelope's and the read model's ids.
NOT_SECRET = frozenset({"idempotency_key", "key_id", "kid", "aggregate_type", "session_id"})


def secret_key(name: str) -> bool:
    return name.lower() not in NOT_SECRET and bool(SECRET_KEY.search(name))


def redact(value: Any) -> Any:
    """A copy of a JSON value with secret-looking members and strings replaced."""
    if isinstance(value, dict):
        return {
            k: REDACTED if secret_key(str(k)) and v not in (None, "") else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str) and SECRET_VALUE.search(value):
        return REDACTED
    return value


def pretty(raw: bytes | None) -> str:
    """The payload as indented JSON, redacted; a non-JSON payload as redacted text."""
    if raw is None:
        return "(no value)"
    try:
        parsed = json.loads(raw)
    except ValueError:
        text = raw.decode(errors="replace")
        return SECRET_VALUE.sub(REDACTED, text)
    return json.dumps(redact(parsed), indent=2, ensure_ascii=False, sort_keys=False)


def header_text(name: str, value: bytes) -> str:
    text = value.decode(errors="replace")
    if secret_key(name) or SECRET_VALUE.search(text):
        return REDACTED
    return text
