"""Twitch EventSub's request signature and replay window (PLATFORMS.md, Twitch)."""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime, timedelta

ID_HEADER = "Twitch-Eventsub-Message-Id"
TIMESTAMP_HEADER = "Twitch-Eventsub-Message-Timestamp"
SIGNATURE_HEADER = "Twitch-Eventsub-Message-Signature"
TYPE_HEADER = "Twitch-Eventsub-Message-Type"
SUBSCRIPTION_HEADER = "Twitch-Eventsub-Subscription-Type"
MAX_AGE = timedelta(minutes=10)
# RFC 3339 with up to nanoseconds (Python's parser takes at most microseconds).
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")


def signature_valid(secret: str, message_id: str, timestamp: str, body: bytes, given: str) -> bool:
    digest = hmac.new(secret.encode(), message_id.encode() + timestamp.encode() + body, "sha256")
    expected = "sha256=" + digest.hexdigest()
    # Constant time; both sides as bytes, so a non-ASCII header cannot raise.
    return hmac.compare_digest(expected.encode(), given.encode(errors="replace"))


def parse_timestamp(value: str) -> datetime | None:
    match = _STAMP.match(value)
    if match is None:
        return None
    whole, fraction, zone = match.groups()
    micros = (fraction or "").ljust(6, "0")[:6]
    try:
        parsed = datetime.fromisoformat(f"{whole}.{micros}{'+00:00' if zone == 'Z' else zone}")
    except ValueError:
        return None
    return parsed.astimezone(UTC)


def timestamp_fresh(value: str, now: datetime | None = None) -> bool:
    """Within 10 minutes of now, either way (an old message is a replay)."""
    stamp = parse_timestamp(value)
    if stamp is None:
        return False
    return abs((now or datetime.now(UTC)) - stamp) <= MAX_AGE
