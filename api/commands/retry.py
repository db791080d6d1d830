"""The ways out of ``failed`` and ``unconfirmed``.

POST /v1/queue/{id}/retry: the item goes out again (RetryItem). POST
/v1/queue/{id}/mark-published: an operator found an unconfirmed item's post on the
platform (MarkPublished).
"""

from __future__ import annotations

from aiohttp import web

from api.auth.principal import Principal
from api.commands.body import command_data, read_command
from api.commands.envelope import idempotency_key, prepare
from api.commands.handlers import _conflict, _item_status
from api.commands.service import accepted, submit, throttle
from schemas.publishing import MarkPublished, RetryItem

# Statuses no retry can leave. The others are left to the decider (a rejected 409
# outcome unless the item is failed or unconfirmed by then): the read model may lag
# a moment behind a failure the client already saw.
NOT_RETRYABLE = frozenset({"published", "cancelled"})


async def retry_item(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=False)
    command = await read_command(request, RetryItem, optional=True)
    item_id, status = await _item_status(request, who)
    if status is not None and status in NOT_RETRYABLE:
        raise _conflict(status, "retried")
    cmd = prepare(request, who, command, command_data(command), key=key, aggregate_id=item_id)
    await submit(request.app, cmd, creates=False)
    return accepted("queue", item_id, cmd.command_id)


async def mark_published(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=False)
    command = await read_command(request, MarkPublished)
    item_id, status = await _item_status(request, who)
    if status is not None and status not in ("unconfirmed", "published"):
        raise _conflict(status, "marked published")
    cmd = prepare(request, who, command, command_data(command), key=key, aggregate_id=item_id)
    await submit(request.app, cmd, creates=False)
    return accepted("queue", item_id, cmd.command_id)
