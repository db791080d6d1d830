"""The ways out of ``failed`` and ``unconfirmed``.

POST /v1/queue/{id}/retry: the item goes out again (RetryItem). POST
/v1/queue/{id}/mark-published: an operator found an unconfirmed item's post on the
platform (MarkPublished).
"""

from __future__ import annotations

from aiohttp import web

from api.auth.principal import Principal
from api.commands.handlers import transition
from schemas.publishing import MarkPublished, RetryItem

# Statuses no retry can leave. The others are left to the decider (a rejected 409
# outcome unless the item is failed or unconfirmed by then): the read model may lag
# a moment behind a failure the client already saw.
NOT_RETRYABLE = frozenset({"published", "cancelled"})
# Only an unconfirmed item can be marked (a published one answers `duplicate`).
NOT_MARKABLE = frozenset({"scheduled", "publishing", "retrying", "failed", "cancelled"})


async def retry_item(request: web.Request, who: Principal) -> web.StreamResponse:
    return await transition(request, who, RetryItem, NOT_RETRYABLE, "retried", body_optional=True)


async def mark_published(request: web.Request, who: Principal) -> web.StreamResponse:
    return await transition(request, who, MarkPublished, NOT_MARKABLE, "marked published")
