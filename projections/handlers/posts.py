"""post_rows (read through the ``posts`` view): one row per published item, from ItemPublished."""

from __future__ import annotations

import uuid

from projections.tables import POST_ROWS, Row, new_row
from schemas.base import Message
from schemas.codec import Decoded
from schemas.envelope import Envelope
from schemas.ids import derived_id
from schemas.publishing import ItemPublished


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
    )
