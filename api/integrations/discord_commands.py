"""Slash commands of a Discord interaction: /queue, /clip, /status.

``/queue`` and ``/clip`` become EnqueueItem and RequestClip under the idempotency key
``discord:<interaction id>`` (a redelivered interaction is the same command); their
token is sealed and kept (vault/inbound.py) for the follow-up the integrations
consumer sends when the outcome is known. ``/status`` is a read, answered at once.
Whatever stops a command (a missing scope, an invalid option, a busy dependency) is
answered as an ephemeral message: Discord shows the user why.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiohttp import web
from pydantic import ValidationError

from api.auth.principal import Principal
from api.backends.errors import Unavailable
from api.commands.envelope import Prepared, prepare
from api.commands.service import submit, throttle
from api.integrations.bot import bot_principal, text
from api.integrations.discord_options import clip_command, queue_command
from api.integrations.discord_status import status_text
from api.integrations.reads import Bound
from api.integrations.store import INBOUND, ring
from api.problems import Problem, from_validation_error
from vault.inbound import PendingReply

log = structlog.get_logger(__name__)

CHANNEL_MESSAGE, DEFERRED = 4, 5
EPHEMERAL = 1 << 6
MAX_CONTENT = 2000
# Discord's deadline is 3 s from its send; what is left of it for our work.
DEADLINE_SECONDS = 2.5
TOKEN_LIFETIME = timedelta(minutes=15)
SNOWFLAKE = re.compile(r"^\d{1,25}$")
SCOPES = {"queue": "queue:write", "clip": "clips:write", "status": "read"}


def message(content: str, *, ephemeral: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"content": content[:MAX_CONTENT], "allowed_mentions": {"parse": []}}
    if ephemeral:
        data["flags"] = EPHEMERAL
    return {"type": CHANNEL_MESSAGE, "data": data}


def _refusal(problem: Problem) -> str:
    reasons = [
        f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in problem.errors or []
    ]
    return "Refused: " + ("; ".join(reasons) if reasons else problem.detail)


def options(data: dict[str, Any]) -> dict[str, Any]:
    """The command's options by name (nested subcommand options are not used)."""
    found: dict[str, Any] = {}
    raw = data.get("options")
    for option in raw if isinstance(raw, list) else []:
        if isinstance(option, dict) and isinstance(option.get("name"), str):
            found[option["name"]] = option.get("value")
    return found


async def _command(
    request: web.Request, who: Principal, name: str, opts: dict[str, Any], key: str
) -> Prepared:
    try:
        if name == "queue":
            command, data = await queue_command(request.app, who, opts)
        else:
            command, data = await clip_command(request.app, who, opts)
    except ValidationError as exc:
        raise from_validation_error(exc, "options") from exc
    return prepare(request, who, command, data, key=key)


async def _defer(
    request: web.Request, integration: Bound, name: str, opts: dict[str, Any], ids: tuple[str, str]
) -> dict[str, Any]:
    interaction_id, token = ids
    who = bot_principal(integration)
    throttle(request, who)
    cmd = await _command(request, who, name, opts, f"discord:{interaction_id}")
    # Kept before the command goes out: its outcome may come back at once.
    assert integration.application_id is not None
    reply = PendingReply(
        command_id=cmd.command_id,
        org_id=who.org_id,
        integration_id=integration.id,
        application_id=integration.application_id,
        aggregate_id=cmd.aggregate_id,
        kind=name,
        expires_at=datetime.now(UTC) + TOKEN_LIFETIME,
        told_at=None,
        token=token,
    )
    await request.app[INBOUND].store_token(ring(request.app), reply)
    await submit(request.app, cmd, creates=True)
    log.info(
        "interaction_accepted",
        org_id=who.org_id,
        command_id=str(cmd.command_id),
        command=name,
        integration_id=str(integration.id),
    )
    return {"type": DEFERRED}


async def slash_command(
    request: web.Request, integration: Bound, payload: dict[str, Any]
) -> dict[str, Any]:
    """The interaction response to a verified APPLICATION_COMMAND."""
    interaction_id = text(payload.get("id"), 25)
    token = text(payload.get("token"), 500)
    data = payload.get("data")
    if interaction_id is None or not SNOWFLAKE.match(interaction_id) or token is None:
        return message("This interaction has no usable id or token.", ephemeral=True)
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return message("This interaction names no command.", ephemeral=True)
    if str(payload.get("application_id")) != integration.application_id:
        return message("This interaction is for another application.", ephemeral=True)
    name = data["name"]
    scope = SCOPES.get(name)
    if scope is None:
        return message(f"WaveStack has no /{name[:32]} command.", ephemeral=True)
    who = bot_principal(integration)
    if not who.has(scope):
        return message(f"This integration lacks the scope {scope}.", ephemeral=True)
    try:
        async with asyncio.timeout(DEADLINE_SECONDS):
            if name == "status":
                return message(await status_text(request.app, who, options(data)))
            return await _defer(request, integration, name, options(data), (interaction_id, token))
    except Problem as problem:
        return message(_refusal(problem), ephemeral=True)
    except Unavailable:
        return message("WaveStack is busy right now; try again shortly.", ephemeral=True)
    except TimeoutError:
        return message("WaveStack took too long; try again shortly.", ephemeral=True)
