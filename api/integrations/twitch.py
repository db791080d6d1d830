"""POST /integrations/twitch/{id}/eventsub: Twitch EventSub over webhooks.

Order of checks: the integration exists, the HMAC signature (403 on a mismatch, as
Twitch's docs ask), the 10-minute replay window, then the message id: one already
taken is answered 204 and nothing else happens. Message ids are remembered in the
vault schema (vault/inbound.py), and every command made from a message has the id
``command_id_for(org, "twitch:<message id>")``, so a redelivery that races the
first copy (or comes after a crash between the produce and the remembering) is
still the same command, which the decider answers once.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from aiohttp import web

from api.appkeys import DATABASE
from api.commands.body import command_data
from api.commands.envelope import prepare
from api.commands.service import submit
from api.integrations.bot import bad_signature, bot_principal, malformed, text
from api.integrations.reads import Bound, bound_integration
from api.integrations.store import INBOUND, ring
from api.integrations.twitch_chat import chat_message
from api.integrations.twitch_verify import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TYPE_HEADER,
    signature_valid,
    timestamp_fresh,
)
from api.problems import Problem, not_found
from api.responses import path_id
from schemas.integrations import RevokeIntegration
from vault.keyring import VaultError

log = structlog.get_logger(__name__)

VERIFICATION = "webhook_callback_verification"
NOTIFICATION = "notification"
REVOCATION = "revocation"


async def _integration(request: web.Request) -> Bound:
    found = await bound_integration(request.app[DATABASE], path_id(request, "integration"))
    if found is None or found.platform != "twitch" or found.status == "deleted":
        raise not_found("integration")
    return found


async def _secret(request: web.Request, integration: Bound) -> str:
    try:
        stored = await request.app[INBOUND].load_secret(ring(request.app), integration.id)
    except VaultError as exc:
        raise Problem(
            503,
            "the integration's secret cannot be opened with the configured key ring",
            kind="secret-key-not-configured",
            headers={"Retry-After": "60"},
        ) from exc
    if stored is None or stored[0] != integration.org_id:
        raise not_found("integration")  # shredded by a DELETE the read model has not seen
    return stored[1]


async def _revoke(
    request: web.Request, integration: Bound, payload: dict[str, Any], mid: str
) -> None:
    subscription = payload.get("subscription")
    status = subscription.get("status") if isinstance(subscription, dict) else None
    command = RevokeIntegration(reason=text(status, 100) or "revoked")
    who = bot_principal(integration)
    cmd = prepare(
        request,
        who,
        command,
        command_data(command),
        key=f"twitch:{mid}",
        aggregate_id=integration.id,
    )
    await submit(request.app, cmd, creates=False)
    log.warning(
        "integration_revoked",
        org_id=who.org_id,
        integration_id=str(integration.id),
        reason=command.reason,
    )


async def eventsub(request: web.Request) -> web.StreamResponse:
    headers = request.headers
    message_id = headers.get(ID_HEADER, "")
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    kind = headers.get(TYPE_HEADER, "")
    if not (message_id and timestamp and signature and kind):
        raise bad_signature(403)
    integration = await _integration(request)
    raw = await request.read()
    secret = await _secret(request, integration)
    if not signature_valid(secret, message_id, timestamp, raw, signature):
        raise bad_signature(403)
    if not timestamp_fresh(timestamp):
        raise bad_signature(403, "the message is older than 10 minutes (or from the future)")
    if text(message_id, 100) is None:
        raise malformed("the message id is not usable")
    if integration.status != "active":
        raise Problem(410, "this integration was revoked", kind="integration-revoked", title="Gone")
    store = request.app[INBOUND]
    if await store.seen(integration.id, message_id):
        return web.Response(status=204)
    try:
        payload: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise malformed("the body is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise malformed("an EventSub message is a JSON object")
    answer = web.Response(status=204)
    if kind == VERIFICATION:
        challenge = text(payload.get("challenge"), 1000)
        if challenge is None:
            raise malformed("the verification has no challenge")
        answer = web.Response(text=challenge, content_type="text/plain")
    elif kind == REVOCATION:
        await _revoke(request, integration, payload, message_id)
    elif kind == NOTIFICATION:
        await chat_message(request, integration, payload, message_id)
    else:
        raise malformed("unknown Twitch-Eventsub-Message-Type")
    # Remembered only once handled: a message whose command could not go out (503)
    # is redelivered by Twitch and handled then.
    await store.remember(integration.id, message_id)
    return answer
