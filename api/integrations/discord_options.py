"""Slash command options turned into command bodies, with the checks POST /v1 makes.

``/queue title [platform] [connection] [description] [schedule_at] [timezone]`` and
``/clip asset start [duration] [title]`` (duration default 30 s). Options arrive as
Discord typed them; the command models validate them (ValidationError → a refusal).
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from api.appkeys import KEY_TABLE
from api.auth.principal import Principal
from api.commands.body import command_data
from api.commands.clips import check_request, resolve_source
from api.problems import Problem, field_error, validation_problem
from api.storable import unstorable
from schemas.base import Command
from schemas.commands import EnqueueItem, RequestClip

DEFAULT_CLIP_SECONDS = 30.0
QUEUE_OPTIONS = ("title", "platform", "description", "schedule_at", "timezone")


def _refuse(option: str, msg: str) -> Problem:
    return validation_problem([field_error(["options", option], msg)])


def _checked(command: Command) -> Command:
    bad = list(unstorable(command.model_dump(exclude_unset=True), ["options"]))
    if bad:
        raise validation_problem([field_error(loc, msg) for loc, msg in bad])
    return command


async def queue_command(
    app: web.Application, who: Principal, opts: dict[str, Any]
) -> tuple[Command, dict[str, Any]]:
    body = {k: opts[k] for k in QUEUE_OPTIONS if k in opts}
    extra: dict[str, Any] = {}
    connection = opts.get("connection")
    if connection is not None:
        try:
            connection_id = uuid.UUID(str(connection))
        except ValueError:
            raise _refuse("connection", "must be a connection id") from None
        stored = await app[KEY_TABLE].load(str(connection_id))
        if stored is None or stored.org_id != who.org_id:
            raise _refuse("connection", "no such connection in this organization")
        body.setdefault("platform", stored.platform)
        if body["platform"] != stored.platform:
            raise _refuse("connection", f"the connection is for {stored.platform}")
        body["connection_id"] = str(connection_id)
        extra["connection_platform"] = stored.platform
    if "platform" not in body:
        raise _refuse("platform", "give a platform or a connection")
    command = _checked(EnqueueItem.model_validate(body))
    schedule = body.get("schedule_at")
    if isinstance(schedule, str) and len(schedule) <= 64:
        extra["schedule_local"] = schedule
    return command, command_data(command) | extra


async def clip_command(
    app: web.Application, who: Principal, opts: dict[str, Any]
) -> tuple[Command, dict[str, Any]]:
    body: dict[str, Any] = {
        "source": {"asset_id": opts.get("asset")},
        "start": opts.get("start", 0),
        "duration": opts.get("duration", DEFAULT_CLIP_SECONDS),
    }
    if "title" in opts:
        body["title"] = opts["title"]
    command = _checked(RequestClip.model_validate(body))
    assert isinstance(command, RequestClip)
    check_request(command)
    resolved = await resolve_source(app, who.org_id, command)
    return command, command_data(command) | {"resolved_source": resolved.model_dump(mode="json")}
