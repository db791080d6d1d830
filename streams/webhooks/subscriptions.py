"""Subscriptions as the delivery process folds them from webhook.* events. Pure, no I/O."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from schemas.base import Message
from schemas.envelope import Envelope
from schemas.webhooks import (
    WebhookCreated,
    WebhookDeleted,
    WebhookDeliveryRecorded,
    WebhookDisabled,
    WebhookSecretRotated,
)

# The events that change a subscription (WebhookReplayRequested starts a replay job).
STATE_TYPES = frozenset(
    {WebhookCreated.TYPE, WebhookSecretRotated.TYPE, WebhookDeleted.TYPE, WebhookDisabled.TYPE}
)


@dataclass(frozen=True)
class Secret:
    """A signing secret: derived from ``command_id``; signs until ``expires_at`` (None: no end)."""

    command_id: uuid.UUID
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Subscription:
    id: uuid.UUID
    org_id: str
    url: str
    event_types: frozenset[str]
    status: str  # active | disabled | deleted
    created_at: datetime
    secrets: tuple[Secret, ...]
    version: int

    def signing(self, now: datetime) -> list[Secret]:
        """The secrets that sign a delivery now, newest first."""
        live = [s for s in self.secrets if s.expires_at is None or s.expires_at > now]
        return list(reversed(live))

    def wants(self, envelope: Envelope, *, replay: bool = False) -> bool:
        """Whether this subscription delivers ``envelope`` (an event of its organization)."""
        if self.status != "active" or envelope.type not in self.event_types:
            return False
        if envelope.org_id != self.org_id:
            return False
        if envelope.occurred_at < self.created_at and not replay:
            return False  # older than the subscription: only a replay asks for those
        # A delivery of a delivery event is not delivered again (it would never end).
        return not (
            envelope.type == WebhookDeliveryRecorded.TYPE
            and envelope.data.get("event_type") == WebhookDeliveryRecorded.TYPE
        )


def apply(
    current: Subscription | None, envelope: Envelope, message: Message
) -> Subscription | None:
    """The subscription after ``message``; unchanged for a repeat (sequence not newer)."""
    sequence = envelope.sequence or 0
    if isinstance(message, WebhookCreated):
        if current is not None:
            return current
        return Subscription(
            id=envelope.aggregate_id,
            org_id=envelope.org_id,
            url=message.url,
            event_types=frozenset(message.event_types),
            status="active",
            created_at=envelope.occurred_at,
            secrets=(Secret(envelope.command_id),),
            version=sequence,
        )
    if current is None or current.version >= sequence or current.org_id != envelope.org_id:
        return current
    if isinstance(message, WebhookSecretRotated):
        expires = message.previous_expires_at
        kept = tuple(
            Secret(s.command_id, expires if s.expires_at is None else min(s.expires_at, expires))
            for s in current.secrets
            if s.expires_at is None or s.expires_at > envelope.occurred_at
        )
        secrets = (*kept, Secret(envelope.command_id))
        return replace(current, secrets=secrets, version=sequence)
    if isinstance(message, WebhookDeleted):
        return replace(current, status="deleted", version=sequence)
    if isinstance(message, WebhookDisabled):
        return replace(current, status="disabled", version=sequence)
    return replace(current, version=sequence)


def to_row(sub: Subscription) -> dict[str, Any]:
    secrets = [
        {
            "command_id": str(s.command_id),
            "expires_at": s.expires_at.isoformat() if s.expires_at else None,
        }
        for s in sub.secrets
    ]
    return {
        "id": sub.id,
        "org_id": sub.org_id,
        "url": sub.url,
        "event_types": sorted(sub.event_types),
        "status": sub.status,
        "created_at": sub.created_at,
        "secrets": json.dumps(secrets),
        "version": sub.version,
    }


def from_row(row: Any) -> Subscription:
    secrets = tuple(
        Secret(
            uuid.UUID(s["command_id"]),
            datetime.fromisoformat(s["expires_at"]) if s["expires_at"] else None,
        )
        for s in json.loads(row["secrets"])
    )
    return Subscription(
        id=row["id"],
        org_id=row["org_id"],
        url=row["url"],
        event_types=frozenset(row["event_types"]),
        status=row["status"],
        created_at=row["created_at"],
        secrets=secrets,
        version=row["version"],
    )


class Registry:
    """Every subscription this process knows, by id and by organization."""

    def __init__(self) -> None:
        self.by_id: dict[uuid.UUID, Subscription] = {}
        self._by_org: dict[str, list[Subscription]] = {}
        # Every type some active subscription takes: the consumer skips the rest unparsed.
        self.types: frozenset[str] = frozenset()

    def replace_all(self, subs: Iterable[Subscription]) -> None:
        self.by_id = {}
        for sub in subs:
            self.by_id[sub.id] = sub
        self._reindex()

    def put(self, sub: Subscription) -> None:
        self.by_id[sub.id] = sub
        self._reindex()

    def _reindex(self) -> None:
        by_org: dict[str, list[Subscription]] = {}
        for sub in self.by_id.values():
            if sub.status == "active":
                by_org.setdefault(sub.org_id, []).append(sub)
        self._by_org = by_org
        self.types = frozenset(t for subs in by_org.values() for s in subs for t in s.event_types)

    def matching(self, envelope: Envelope) -> list[Subscription]:
        return [s for s in self._by_org.get(envelope.org_id, ()) if s.wants(envelope)]
