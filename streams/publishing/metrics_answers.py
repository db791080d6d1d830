"""Reading a platform's answer to a post lookup into figures (YouTube, X): pure parsing.

Figures the platform hides or lacks stay None, never 0: a chart should show a gap,
not a drop. Counts that are not non-negative integers are treated as absent.
"""

from __future__ import annotations

from streams.publishing.adapters.base import (
    Answer,
    ErrorClass,
    Failed,
    Metrics,
    MetricsResult,
    NotAvailable,
)
from streams.publishing.adapters.http import dig, json_body

YOUTUBE_GONE = "YouTube has no video with this id any more (deleted)"
X_GONE = "X has no post with this id any more (deleted)"
NOT_FOUND_PROBLEM = "resource-not-found"


def count(value: object) -> int | None:
    """A statistics figure (YouTube sends them as decimal strings), None when absent."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def youtube_statistics(answer: Answer) -> MetricsResult:
    body = json_body(answer)
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return Failed(ErrorClass.TRANSIENT, answer.status, "YouTube's answer had no video list")
    if not items:
        return NotAvailable(YOUTUBE_GONE, gone=True)
    stats = items[0].get("statistics") if isinstance(items[0], dict) else None
    if not isinstance(stats, dict):
        return Failed(ErrorClass.TRANSIENT, answer.status, "YouTube's answer had no statistics")
    return Metrics(
        views=count(stats.get("viewCount")),
        likes=count(stats.get("likeCount")),
        comments=count(stats.get("commentCount")),
    )


def figure(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def x_public_metrics(body: object) -> MetricsResult:
    """A post lookup's answer: its public metrics, or gone when X says it is not found."""
    data = dig(body, "data")
    found = dig(data, "public_metrics")
    if isinstance(found, dict):
        reposts, quotes = figure(found.get("retweet_count")), figure(found.get("quote_count"))
        shares = None if reposts is None and quotes is None else (reposts or 0) + (quotes or 0)
        return Metrics(
            views=figure(found.get("impression_count")),
            likes=figure(found.get("like_count")),
            comments=figure(found.get("reply_count")),
            shares=shares,
        )
    errors = body.get("errors") if isinstance(body, dict) else None
    if data is None and isinstance(errors, list):
        kinds = [str(e.get("type", "")) for e in errors if isinstance(e, dict)]
        if any(kind.endswith(NOT_FOUND_PROBLEM) for kind in kinds):
            return NotAvailable(X_GONE, gone=True)
    return Failed(ErrorClass.TRANSIENT, 200, "X's answer had no public metrics")
