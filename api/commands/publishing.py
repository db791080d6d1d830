"""The publishing fields of POST /v1/queue: its connection and the schedule's own text.

``connection_platform`` and ``schedule_local`` are filled in here, never taken from
the client: the first from the key table (a connection of the caller's organization),
the second from the body's own ``schedule_at`` text.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from api.appkeys import KEY_TABLE
from api.auth.principal import Principal
from api.problems import Loc, Problem, field_error, validation_problem
from schemas.commands import EnqueueItem
from schemas.times import offset_contradiction

SERVER_FILLED = ("connection_platform", "schedule_local")
SCHEDULE_LOCAL_MAX = 64
CONNECTION: Loc = ["body", "connection_id"]


def _refuse(field: str, msg: str) -> Problem:
    return validation_problem([field_error(["body", field], msg)])


def _no_connection() -> Problem:
    # 404 like any unknown or other organization's resource, naming the field.
    msg = "no such connection in this organization"
    return Problem(
        404, msg, kind="not-found", title="Not found", errors=[field_error(CONNECTION, msg)]
    )


async def _raw_schedule_at(request: web.Request) -> str | None:
    # The body was read (and validated) already: aiohttp keeps the bytes.
    try:
        raw = json.loads(await request.read()).get("schedule_at")
    except (ValueError, AttributeError):  # a text pydantic's parser took and json's did not
        return None
    return raw if isinstance(raw, str) else None


async def publishing_fields(
    request: web.Request, who: Principal, command: EnqueueItem
) -> dict[str, Any]:
    """What the API adds to the client's EnqueueItem data; 404/422 problems otherwise."""
    for name in SERVER_FILLED:
        if name in command.model_fields_set:
            raise _refuse(name, "is filled in by the server; do not send it")
    extra: dict[str, Any] = {}
    if command.schedule_at is not None:
        # Only against a zone the client named: the default (UTC) is no claim about the
        # offset, and clients that never sent a zone keep working.
        if "timezone" in command.model_fields_set:
            try:
                reason = offset_contradiction(command.schedule_at, command.timezone)
            except OverflowError:  # 0001-01-01 in a zone west of UTC has no local time
                reason = "the date is out of range in that time zone"
            if reason is not None:
                raise _refuse("schedule_at", reason)
        local = await _raw_schedule_at(request)
        if local is not None and len(local) <= SCHEDULE_LOCAL_MAX:
            extra["schedule_local"] = local
    if command.connection_id is not None:
        stored = await request.app[KEY_TABLE].load(str(command.connection_id))
        if stored is None or stored.org_id != who.org_id:
            raise _no_connection()
        if stored.platform != command.platform:
            raise _refuse(
                "connection_id", f"the connection is for {stored.platform}, not {command.platform}"
            )
        extra["connection_platform"] = stored.platform
    return extra
