"""Publishing messages: connections, the publisher's reports and the attempt events.

Commands are imperative, events past tense (like schemas/commands.py and events.py);
they live together here because they change together. The publisher's commands carry
ids derived from the item and the attempt (``schemas.ids.derived_id``), so a re-run
reports under the same id and the decider answers it once.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, Field

from schemas.base import Command, Event
from schemas.commands import Platform

ErrorClassName = Literal["transient", "rate-limited", "quota", "permanent", "unknown-outcome"]
Finding = Literal["published", "not-published", "resend-safe", "cannot-know"]

MAX_SUMMARY_CHARS = 500
MAX_REASON_CHARS = 1000
SEALED_MAX_CHARS = 16_384


# --- connections (client commands, through the API) ---------------------------------


class CreateConnection(Command):
    """A platform account: credentials sealed by the API (``vault``), never plaintext."""

    TYPE: ClassVar[str] = "connection.CreateConnection"
    AGGREGATE_TYPE: ClassVar[str] = "connection"

    platform: Platform
    name: str = Field(min_length=1, max_length=200)
    # vault.credentials.seal output ("v1:<base64>"), bound to org and connection id.
    sealed_credentials: str = Field(pattern=r"^v1:", max_length=SEALED_MAX_CHARS)
    # The ring key that wrapped the data key when the connection was made (audit only:
    # the wrapped key itself lives in the key table, where rotation rewraps it).
    key_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")


class DeleteConnection(Command):
    TYPE: ClassVar[str] = "connection.DeleteConnection"
    AGGREGATE_TYPE: ClassVar[str] = "connection"


class ConnectionCreated(Event):
    TYPE: ClassVar[str] = "connection.ConnectionCreated"
    AGGREGATE_TYPE: ClassVar[str] = "connection"

    platform: Platform
    name: str
    sealed_credentials: str
    key_id: str


class ConnectionDeleted(Event):
    """The connection is gone; its data key is destroyed (crypto-shredding)."""

    TYPE: ClassVar[str] = "connection.ConnectionDeleted"
    AGGREGATE_TYPE: ClassVar[str] = "connection"


# --- the queue item: operator and publisher commands ---------------------------------


class RetryItem(Command):
    """Re-queues a failed (or unconfirmed) item: a new attempt series at ``schedule_at``."""

    TYPE: ClassVar[str] = "queue.RetryItem"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    # None: now (the command's occurred_at).
    schedule_at: AwareDatetime | None = None


class MarkPublished(Command):
    """An operator found an ``unconfirmed`` item's post on the platform: it is published.

    The way out of ``unconfirmed`` besides ``RetryItem`` (which posts again).
    """

    TYPE: ClassVar[str] = "queue.MarkPublished"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    post_id: str = Field(min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")


class StartPublish(Command):
    """The scheduler's claim on attempt ``attempt``: applied once per item and attempt."""

    TYPE: ClassVar[str] = "queue.StartPublish"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    attempt: int = Field(ge=1)
    attempt_id: str = Field(min_length=1, max_length=64)
    adapter: str = Field(min_length=1, max_length=32)
    fingerprint: str = Field(min_length=1, max_length=128)


class RecordPublishCheckpoint(Command):
    """State the platform keeps across calls (a YouTube upload session), before bytes go."""

    TYPE: ClassVar[str] = "queue.RecordPublishCheckpoint"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    attempt: int = Field(ge=1)
    session: dict[str, Any]


class CompletePublish(Command):
    TYPE: ClassVar[str] = "queue.CompletePublish"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    attempt: int = Field(ge=1)
    post_id: str = Field(min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=2000)
    # Found by reconciliation rather than answered by the publish call...
    reconciled: bool = False
    # ...of this attempt id (the one whose outcome was unknown).
    reconciled_attempt_id: str | None = Field(default=None, max_length=64)


class FailPublishAttempt(Command):
    """One attempt's failure; ``next_attempt_at`` None ends the item as failed."""

    TYPE: ClassVar[str] = "queue.FailPublishAttempt"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    attempt: int = Field(ge=1)
    # The attempt id the request carried (an earlier one's when resending it after
    # reconciliation said the platform dedupes).
    attempt_id: str = Field(min_length=1, max_length=64)
    error_class: ErrorClassName
    platform_status: int | None = Field(default=None, ge=100, le=599)
    summary: str = Field(max_length=MAX_SUMMARY_CHARS)
    next_attempt_at: AwareDatetime | None = None
    # What the user can do about it, shown when the item fails.
    reason: str = Field(default="", max_length=MAX_REASON_CHARS)
    connection_broken: bool = False


class RecordReconciliation(Command):
    """What the adapter found about an attempt whose outcome was unknown."""

    TYPE: ClassVar[str] = "queue.RecordReconciliation"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    attempt: int = Field(ge=1)
    # The attempt id that was looked up (the one whose outcome was unknown).
    attempt_id: str = Field(min_length=1, max_length=64)
    finding: Finding
    detail: str = Field(default="", max_length=MAX_SUMMARY_CHARS)


# --- the queue item: events -----------------------------------------------------------


class PublishStarted(Event):
    """Attempt ``attempt`` is the publisher's to make; only its consumer calls the platform."""

    TYPE: ClassVar[str] = "queue.PublishStarted"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    attempt: int
    attempt_id: str
    adapter: str
    fingerprint: str
    # An attempt id whose outcome is unknown: reconcile it before sending anything.
    reconcile_attempt_id: str | None = None


class PublishCheckpointed(Event):
    TYPE: ClassVar[str] = "queue.PublishCheckpointed"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    attempt: int
    session: dict[str, Any]


class ItemPublished(Event):
    TYPE: ClassVar[str] = "queue.ItemPublished"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    attempt: int
    post_id: str
    url: str | None = None


class PublishAttemptFailed(Event):
    TYPE: ClassVar[str] = "queue.PublishAttemptFailed"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    attempt: int
    attempt_id: str
    error_class: ErrorClassName
    platform_status: int | None = None
    summary: str
    next_attempt_at: AwareDatetime | None = None


class ItemFailed(Event):
    TYPE: ClassVar[str] = "queue.ItemFailed"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    attempt: int
    error_class: ErrorClassName
    reason: str
    connection_broken: bool = False


class PublishReconciled(Event):
    TYPE: ClassVar[str] = "queue.PublishReconciled"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    attempt: int
    attempt_id: str
    finding: Finding
    detail: str = ""


class ItemUnconfirmed(Event):
    """The platform cannot say whether the attempt went out: an operator decides."""

    TYPE: ClassVar[str] = "queue.ItemUnconfirmed"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    attempt: int
    reason: str


class ItemRetried(Event):
    """A failed or unconfirmed item is scheduled again, with a fresh attempt series."""

    TYPE: ClassVar[str] = "queue.ItemRetried"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    schedule_at: AwareDatetime


# --- reading back: a published post's figures ----------------------------------------


class RecordPostMetrics(Command):
    """One read round of a published item's post: its figures, or that it is gone."""

    # Sent by the publisher under derived_id(item, "post-metrics:<round>"), so a
    # restart repeats a round under the same id and the decider applies it once.
    TYPE: ClassVar[str] = "queue.RecordPostMetrics"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    round: int = Field(ge=1)
    read_at: AwareDatetime
    # None where the platform has no such figure (or hides it for this post).
    views: int | None = Field(default=None, ge=0)
    likes: int | None = Field(default=None, ge=0)
    comments: int | None = Field(default=None, ge=0)
    shares: int | None = Field(default=None, ge=0)
    # The platform says the post does not exist any more (deleted): no figures, and
    # no more reads.
    gone: bool = False


class PostMetricsRecorded(Event):
    """The post's figures as the platform gave them at ``read_at`` (or that it is gone)."""

    TYPE: ClassVar[str] = "queue.PostMetricsRecorded"
    AGGREGATE_TYPE: ClassVar[str] = "queue_item"

    round: int
    read_at: AwareDatetime
    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    gone: bool = False
