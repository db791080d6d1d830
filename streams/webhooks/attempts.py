"""What one delivery attempt's answer means, and the ids it is recorded under. Pure."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.ids import derived_id
from schemas.webhooks import DeliveryOutcome

# A receiver asking for a wait longer than this is misparsed or hostile.
MAX_RETRY_AFTER = timedelta(days=1)


def delivery_id(
    subscription_id: uuid.UUID, event_id: uuid.UUID, replay: uuid.UUID | None
) -> uuid.UUID:
    """One per subscription, event and replay: the delivery aggregate and due row."""
    return derived_id(subscription_id, f"delivery:{event_id}:{replay or 'live'}")


def record_command_id(delivery: uuid.UUID, attempt: int) -> uuid.UUID:
    return derived_id(delivery, f"attempt:{attempt}")


def disable_command_id(subscription_id: uuid.UUID) -> uuid.UUID:
    # One per subscription: two 410s at once disable it once.
    return derived_id(subscription_id, "disable:gone")


@dataclass(frozen=True)
class Answer:
    """What came back: an HTTP status (None: no answer) and a short summary."""

    status: int | None
    summary: str
    retry_after: timedelta | None = None
    # The URL can never work (egress refused it): retrying cannot help.
    permanent: bool = False


@dataclass(frozen=True)
class Verdict:
    outcome: DeliveryOutcome
    next_attempt_at: datetime | None = None


def judge(answer: Answer, attempt: int, schedule: Sequence[float], now: datetime) -> Verdict:
    """2xx delivered; 410 disables the subscription; anything else waits for the next
    slot of ``schedule`` (or longer, if the receiver's Retry-After says so), and after
    the last one the delivery is dead. 3xx is a failure: redirects are not followed."""
    if answer.status is not None and 200 <= answer.status < 300:
        return Verdict("delivered")
    if answer.status == 410:
        return Verdict("disabled")
    if answer.permanent or attempt > len(schedule):
        return Verdict("dead")
    wait = timedelta(seconds=schedule[attempt - 1])
    if answer.retry_after is not None:
        wait = max(wait, min(answer.retry_after, MAX_RETRY_AFTER))
    return Verdict("retrying", now + wait)
