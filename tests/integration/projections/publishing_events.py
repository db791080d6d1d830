"""Publishing histories as the decider emits them (streams/domain/publish.py), for the
projector tests: every event of one item, in order, with its sequence."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from schemas.base import Message
from schemas.envelope import Envelope
from schemas.events import ItemEnqueued, ItemRescheduled
from schemas.publishing import (
    ConnectionCreated,
    ConnectionDeleted,
    ErrorClassName,
    Finding,
    ItemFailed,
    ItemPublished,
    ItemRetried,
    ItemUnconfirmed,
    PublishAttemptFailed,
    PublishCheckpointed,
    PublishReconciled,
    PublishStarted,
)
from tests.integration.projections.projection_support import ORG, T0, event

# A recognisable "ciphertext": no table of the read model may ever contain it.
SEALED = "v1:c2VhbGVkLWNyZWRlbnRpYWxzLXRoYXQtbXVzdC1uZXZlci1iZS1jb3BpZWQ="
SESSION_URI = "https://upload.example/session?upload_id=secret-upload-capability"
SCHEDULE_AT = T0 + timedelta(hours=1)
RETRY_AT = T0 + timedelta(hours=2)
RESET_AT = T0 + timedelta(days=1)


def attempt_id(item: uuid.UUID, n: int) -> str:
    return f"{item.hex[:12]}-{n}"


@dataclass
class History:
    """One aggregate's events, numbered as the decider numbers them."""

    aggregate: uuid.UUID
    org_id: str = ORG
    events: list[Envelope] = field(default_factory=list)

    def add(self, *messages: Message, at: datetime | None = None) -> History:
        """The events of one decision: one command, indexes 1, 2, ..."""
        sequence = len(self.events) + 1
        command = uuid.uuid5(self.aggregate, f"decision-{sequence}")
        for index, message in enumerate(messages, start=1):
            self.events.append(
                event(
                    message,
                    aggregate_id=self.aggregate,
                    sequence=len(self.events) + 1,
                    command_id=command,
                    org_id=self.org_id,
                    index=index,
                    occurred_at=at,
                )
            )
        return self

    # --- the queue item -------------------------------------------------------------

    def enqueued(self, connection: uuid.UUID, **kw: Any) -> History:
        values: dict[str, Any] = {
            "platform": "webhook",
            "title": "a post",
            "description": "",
            "project_id": None,
            "asset_id": None,
            "schedule_at": SCHEDULE_AT,
            "timezone": "Europe/Paris",
            "target": {},
            "connection_id": connection,
            "schedule_local": "2025-03-01T14:00:00+01:00",
        }
        return self.add(ItemEnqueued(**{**values, **kw}))

    def started(self, n: int, reconcile: str | None = None) -> History:
        return self.add(
            PublishStarted(
                attempt=n,
                attempt_id=attempt_id(self.aggregate, n),
                adapter="webhook",
                fingerprint=f"fp-{n}",
                reconcile_attempt_id=reconcile,
            )
        )

    def attempt_failed(
        self,
        n: int,
        error_class: ErrorClassName,
        next_at: datetime | None,
        *also: Message,
        status: int | None = 503,
    ) -> History:
        failure = PublishAttemptFailed(
            attempt=n,
            attempt_id=attempt_id(self.aggregate, n),
            error_class=error_class,
            platform_status=status,
            summary=f"{error_class} answer",
            next_attempt_at=next_at,
        )
        return self.add(failure, *also)

    def failed_for_good(self, n: int, reason: str) -> History:
        """FailPublishAttempt without a next time: PublishAttemptFailed + ItemFailed."""
        ended = ItemFailed(
            attempt=n, error_class="permanent", reason=reason, connection_broken=True
        )
        return self.attempt_failed(n, "permanent", None, ended, status=401)

    def quota(self, n: int) -> History:
        moved = ItemRescheduled(schedule_at=RESET_AT, reason="quota used up; rescheduled")
        return self.attempt_failed(n, "quota", RESET_AT, moved, status=403)

    def checkpointed(self, n: int) -> History:
        return self.add(PublishCheckpointed(attempt=n, session={"session_uri": SESSION_URI}))

    def published(self, n: int, *, reconciled: str | None = None) -> History:
        post = ItemPublished(attempt=n, post_id=f"post-{self.aggregate.hex[:8]}", url=None)
        if reconciled is None:
            return self.add(post)
        found = PublishReconciled(attempt=n, attempt_id=reconciled, finding="published")
        return self.add(found, post)

    def reconciled(self, n: int, of: str, finding: Finding) -> History:
        found = PublishReconciled(attempt=n, attempt_id=of, finding=finding, detail="looked")
        if finding == "cannot-know":
            return self.add(found, ItemUnconfirmed(attempt=n, reason="look on the platform"))
        return self.add(found)

    def retried(self, at: datetime = RETRY_AT) -> History:
        return self.add(ItemRetried(schedule_at=at))

    # --- the connection -------------------------------------------------------------

    def connection_created(self, name: str = "our webhook") -> History:
        return self.add(
            ConnectionCreated(platform="webhook", name=name, sealed_credentials=SEALED, key_id="k1")
        )

    def connection_deleted(self) -> History:
        return self.add(ConnectionDeleted())


def item(org_id: str, name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{org_id}/publishing/{name}")


def lifecycles(org_id: str = ORG) -> dict[str, History]:
    """The histories the tests check: one connection and an item per lifecycle."""
    connection = History(item(org_id, "connection"), org_id).connection_created()
    conn_id = connection.aggregate

    def new(name: str) -> History:
        return History(item(org_id, name), org_id).enqueued(conn_id)

    gone = History(item(org_id, "gone"), org_id).connection_created("old").connection_deleted()
    first = attempt_id(item(org_id, "unconfirmed"), 1)
    return {
        "connection": connection,
        "gone": gone,
        "published": new("published").started(1).checkpointed(1).published(1),
        # retry -> failed -> retried -> published
        "retried": new("retried")
        .started(1)
        .attempt_failed(1, "transient", T0 + timedelta(hours=1, minutes=1))
        .started(2)
        .failed_for_good(2, "the webhook answered 401: fix the connection")
        .retried()
        .started(3)
        .published(3),
        "unconfirmed": new("unconfirmed")
        .started(1)
        .attempt_failed(1, "unknown-outcome", T0 + timedelta(hours=1, minutes=1), status=None)
        .started(2, reconcile=first)
        .reconciled(2, first, "cannot-know"),
        "quota": new("quota").started(1).quota(1),
        "waiting": new("waiting"),
    }


def every_event(histories: dict[str, History]) -> list[Envelope]:
    return [e for h in histories.values() for e in h.events]
