"""POST handlers of queue items and projects, each a thin shell around submit()."""

from __future__ import annotations

import uuid

from aiohttp import web

from api.appkeys import DATABASE
from api.auth.principal import Principal
from api.commands.body import command_data, read_command
from api.commands.envelope import idempotency_key, prepare
from api.commands.publishing import publishing_fields
from api.commands.service import accepted, creation_pending, submit, throttle
from api.problems import Problem, not_found
from api.reads.queue import status_of
from api.responses import path_id
from schemas.base import Command
from schemas.commands import CancelItem, CreateProject, EnqueueItem, RescheduleItem

# Transitions the read model already rules out (DESIGN §8: cancel only before publishing).
NOT_CANCELLABLE = frozenset({"publishing", "published", "failed", "unconfirmed"})
NOT_RESCHEDULABLE = frozenset({"publishing", "published", "failed", "cancelled", "unconfirmed"})
# A cancel may come without a body (its reason is optional); the route table reads it too.
CANCEL_BODY_OPTIONAL = True


async def _create(
    request: web.Request, who: Principal, model: type[Command], resource: str
) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=True)
    command = await read_command(request, model)
    cmd = prepare(request, who, command, command_data(command), key=key)
    await submit(request.app, cmd, creates=True)
    return accepted(resource, cmd.aggregate_id, cmd.command_id)


async def enqueue_item(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=True)
    command = await read_command(request, EnqueueItem)
    # The connection's platform (key table) and the schedule's text: in the fingerprint.
    data = command_data(command) | await publishing_fields(request, who, command)
    cmd = prepare(request, who, command, data, key=key)
    await submit(request.app, cmd, creates=True)
    return accepted("queue", cmd.aggregate_id, cmd.command_id)


async def create_project(request: web.Request, who: Principal) -> web.StreamResponse:
    return await _create(request, who, CreateProject, "projects")


async def _item_status(request: web.Request, who: Principal) -> tuple[uuid.UUID, str | None]:
    """The item's id and status; 404 unless it exists (or is being created) in this org."""
    item_id = path_id(request, "queue item")
    status = await status_of(request.app[DATABASE], who.org_id, item_id)
    if status is not None:
        return item_id, status
    # Enqueued a moment ago, not projected yet: the decider will know it.
    if await creation_pending(request.app, who.org_id, item_id, EnqueueItem.TYPE):
        return item_id, None
    raise not_found("queue item")


def _conflict(status: str, action: str) -> Problem:
    return Problem(
        409,
        f"a {status} item cannot be {action}",
        kind="invalid-transition",
        title="Conflict",
        extra={"item_status": status},
    )


async def transition(
    request: web.Request,
    who: Principal,
    model: type[Command],
    refused: frozenset[str],
    action: str,
    *,
    body_optional: bool = False,
) -> web.StreamResponse:
    """A command on an existing queue item: 409 when the read model already shows a
    status in ``refused``; anything else is left to the decider, since the read model
    may lag a moment behind what the client saw."""
    throttle(request, who)
    key = idempotency_key(request, required=False)
    command = await read_command(request, model, optional=body_optional)
    item_id, status = await _item_status(request, who)
    if status is not None and status in refused:
        raise _conflict(status, action)
    cmd = prepare(request, who, command, command_data(command), key=key, aggregate_id=item_id)
    await submit(request.app, cmd, creates=False)
    return accepted("queue", item_id, cmd.command_id)


async def cancel_item(request: web.Request, who: Principal) -> web.StreamResponse:
    # An already cancelled item is accepted: the decider records a `duplicate` outcome,
    # so retrying a cancel is harmless and says what happened.
    return await transition(
        request, who, CancelItem, NOT_CANCELLABLE, "cancelled", body_optional=CANCEL_BODY_OPTIONAL
    )


async def reschedule_item(request: web.Request, who: Principal) -> web.StreamResponse:
    return await transition(request, who, RescheduleItem, NOT_RESCHEDULABLE, "rescheduled")
