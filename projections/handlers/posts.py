"""post_rows (read through the ``posts`` view): one row per published item, from ItemPublished;
its latest figures from PostMetricsRecorded."""

from __future__ import annotations

import uuid
from typing import Any

from projections.handlers.guard import applies
from projections.tables import POST_ROWS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.envelope import Envelope
from schemas.ids import derived_id
from schemas.publishing import ItemPublished, PostMetricsRecorded


def post_id_of(item_id: uuid.UUID) -> uuid.UUID:
    """One post per item: a published item is final, so a second ItemPublished never
    comes (the decider answers a repeated CompletePublish as a duplicate)."""
    return derived_id(item_id, "post")


def post_key(env: Envelope) -> uuid.UUID:
    return post_id_of(env.aggregate_id)


def item_published(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    if row is not None:
        return row  # created once: a re-delivered event changes nothing
    env, post = decoded.envelope, decoded.as_(ItemPublished)
    return new_row(
        POST_ROWS,
        id=post_id_of(env.aggregate_id),
        org_id=env.org_id,
        queue_item_id=env.aggregate_id,
        attempt=post.attempt,
        platform_post_id=post.post_id,
        url=post.url,
        published_at=env.occurred_at,
        version=env.sequence,
        views=None,
        likes=None,
        comments=None,
        shares=None,
        metrics_read_at=None,
        metrics_round=0,
        gone_at=None,
    )


def metrics_recorded(row: Row | None, decoded: Decoded[Message]) -> Row | None:
    """The latest round wins; a round already folded (or older) changes nothing. A post
    gone from the platform keeps the last figures it had, with ``gone_at``."""
    env = decoded.envelope
    if row is None or not applies(row, env):
        return row
    read = decoded.as_(PostMetricsRecorded)
    if read.round <= row["metrics_round"]:
        return row
    changes: dict[str, Any]
    if read.gone:
        changes = {"gone_at": read.read_at}
    else:
        changes = {
            "views": read.views,
            "likes": read.likes,
            "comments": read.comments,
            "shares": read.shares,
            "metrics_read_at": read.read_at,
        }
    return {**row, **changes, "metrics_round": read.round, "version": env.sequence}
