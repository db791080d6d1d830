"""POST /integrations/discord/{id}/interactions: Discord's interactions endpoint.

The signature is checked before the body is parsed; a request that fails it gets a
401 and nothing else happens (no command, no log line). PING answers PONG; slash
commands answer within Discord's 3 s: a deferred response (type 5) once the command
is on the log, or at once a message (a status read, or why the command was refused).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from api.appkeys import DATABASE
from api.integrations.bot import bad_signature, malformed
from api.integrations.discord_commands import slash_command
from api.integrations.discord_verify import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_valid,
    timestamp_fresh,
)
from api.integrations.reads import Bound, bound_integration
from api.problems import not_found
from api.responses import path_id

PING, APPLICATION_COMMAND = 1, 2
PONG = 1


async def _integration(request: web.Request) -> Bound:
    integration_id = path_id(request, "integration")
    found = await bound_integration(request.app[DATABASE], integration_id)
    if found is None or found.platform != "discord" or found.status != "active":
        raise not_found("integration")
    return found


async def interactions(request: web.Request) -> web.StreamResponse:
    signature = request.headers.get(SIGNATURE_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not signature or not timestamp:
        raise bad_signature(401)
    integration = await _integration(request)
    raw = await request.read()  # 413 past the API's body limit
    assert integration.public_key is not None  # a discord integration always has one
    if not signature_valid(integration.public_key, signature, timestamp, raw):
        raise bad_signature(401)
    if not timestamp_fresh(timestamp):
        raise bad_signature(401, "the request signature is too old (or from the future)")
    try:
        payload: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise malformed("the body is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise malformed("an interaction is a JSON object")
    kind = payload.get("type")
    if kind == PING and not isinstance(kind, bool):
        return web.json_response({"type": PONG})
    if kind == APPLICATION_COMMAND and not isinstance(kind, bool):
        return web.json_response(await slash_command(request, integration, payload))
    raise malformed("only PING and application commands are handled")
