"""The adapter interface: what the publisher asks of a platform, and what it gets back.

Contract for an implementation (the contract suite in tests/integration/publishing
checks every adapter against its local fake):

- `publish` sends the item **at most once per call** and never retries a request that
  may have reached the platform: retrying is the publisher's job, through the log, so
  every attempt is an event. It may retry steps that are safe by construction (the
  YouTube session start, a status query) and must say which in its module docstring.
- Every answer becomes a result, never an exception: `Published` with the platform's
  post id, or `Failed` with one of the five error classes. Only programming errors
  raise. A timeout or a lost connection after the request may have been sent is
  `UNKNOWN_OUTCOME`, never `TRANSIENT`.
- Before sending anything that makes the platform hold state across calls (a
  resumable upload session), call `checkpoint` with the JSON-able state and wait for
  it: the publisher puts it on the log, so a crash resumes instead of uploading twice.
- `reconcile` answers "did attempt `attempt_id` go out?" with read-only calls (or a
  resume of the stored session) before any new attempt. It never re-posts. Where the
  platform offers no way to know it answers `CannotKnow`.
- Nothing a result or a log line carries may contain a credential: summaries are fixed
  phrases plus the platform's own short message, never a URL (webhook URLs carry
  tokens), a header or a request body.
- Base URLs and the HTTP session come in through the constructor; an adapter never
  reads settings or opens its own session.

Reading back (`metrics`, only where `reads_metrics` is true: YouTube and X):

- One read-only request per call, through the same session, egress rules and
  rate-limit memory as publishing; a bucket known to be empty answers `Failed`
  (`RATE_LIMITED`, `retry_at`) without sending, a quota answer `Failed` (`QUOTA`).
- A read never changes what `publish` does: reads use the platform's read endpoint
  and its own bucket, so a 429 on a read cannot hold back a post.
- A post the platform no longer has (404, an empty lookup) is
  `NotAvailable(gone=True)`; every other answer is `Metrics` or `Failed`, never an
  exception. Figures the platform hides or lacks are None, never 0.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar


class ErrorClass(StrEnum):
    TRANSIENT = "transient"  # retry with backoff
    RATE_LIMITED = "rate-limited"  # retry at `retry_at`, which the platform said
    QUOTA = "quota"  # reschedule to the quota reset (`retry_at`); not a failure
    PERMANENT = "permanent"  # fail now: retrying can't fix it
    UNKNOWN_OUTCOME = "unknown-outcome"  # may have gone out: reconcile before anything


@dataclass(frozen=True)
class MediaFile:
    path: Path
    size: int
    content_type: str = "video/mp4"


@dataclass(frozen=True)
class PublishRequest:
    item_id: str
    # Deterministic per attempt (the same after a crash): webhook-id, nonce, marker.
    attempt_id: str
    title: str
    description: str
    target: Mapping[str, Any]
    # Decrypted connection credentials; repr=False keeps them out of tracebacks and logs.
    credentials: Mapping[str, str] = field(repr=False)
    media: MediaFile | None = None
    # What the adapter last passed to `checkpoint` for this item, from the log.
    session: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Published:
    post_id: str
    url: str | None = None


@dataclass(frozen=True)
class Failed:
    error_class: ErrorClass
    status: int | None  # the platform's HTTP status, None when no answer came
    summary: str  # short, safe to log and show a user
    retry_at: datetime | None = None  # when the platform said to come back
    # The connection itself is unusable (revoked, deleted): disable it, tell the user.
    connection_broken: bool = False


@dataclass(frozen=True)
class NotPublished:
    """The platform says the attempt did not go out: a new attempt is safe."""


@dataclass(frozen=True)
class ResendSafe:
    """The platform dedupes on `attempt_id`: publishing the same request again is safe."""

    reason: str


@dataclass(frozen=True)
class CannotKnow:
    """The platform offers no way to tell: the item becomes `unconfirmed`."""

    reason: str


PublishResult = Published | Failed
# A `Failed` from reconcile means the lookup itself failed; ask again later.
ReconcileResult = Published | NotPublished | ResendSafe | CannotKnow | Failed
Checkpoint = Callable[[Mapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class PostRef:
    """A published post to read back: the item and the platform's id for it."""

    item_id: str
    post_id: str
    url: str | None = None


@dataclass(frozen=True)
class Metrics:
    """A post's figures as the platform gives them; None where it has no such figure."""

    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None


@dataclass(frozen=True)
class NotAvailable:
    """No figures for this post: ``gone`` when the platform says it does not exist any more
    (recorded once, never read again); otherwise the platform has no read API."""

    reason: str
    gone: bool = False


# A `Failed` from metrics means the read failed: read again at `retry_at` or later.
MetricsResult = Metrics | NotAvailable | Failed


@dataclass(frozen=True)
class Answer:
    """A platform's HTTP answer, read in full (bounded) before classification."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Adapter(abc.ABC):
    platform: str
    # Whether `metrics` asks the platform; the publisher reads back only these.
    reads_metrics: ClassVar[bool] = False

    @abc.abstractmethod
    async def publish(self, request: PublishRequest, checkpoint: Checkpoint) -> PublishResult:
        """Send the item once; see the module docstring for what must hold."""

    @abc.abstractmethod
    async def reconcile(self, request: PublishRequest) -> ReconcileResult:
        """Find out, read-only, whether `request.attempt_id` went out."""

    @abc.abstractmethod
    def classify(self, answer: Answer, now: datetime) -> Failed:
        """The error class of a non-success answer, with the platform's retry time."""

    async def metrics(self, post: PostRef, credentials: Mapping[str, str]) -> MetricsResult:
        """The post's figures now, read-only; see the module docstring."""
        return NotAvailable(f"{self.platform} has no API to read a post's figures")
