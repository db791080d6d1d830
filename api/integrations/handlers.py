"""POST/GET/DELETE /v1/integrations: a bot binding of the caller's organization.

A Twitch secret is sealed and stored (vault/inbound.py) before ``CreateIntegration``
is produced, and never leaves the vault again: not on the log, not in any answer. A
retry with the same Idempotency-Key finds the row; another secret under it is a 422.
"""

from __future__ import annotations

import uuid

from aiohttp import web

from api.appkeys import DATABASE
from api.auth.principal import Principal
from api.commands.body import command_data, read_command
from api.commands.envelope import idempotency_key, prepare
from api.commands.service import accepted, creation_pending, key_reused, submit, throttle
from api.integrations.bodies import (
    DiscordBody,
    IntegrationBodyModel,
    TwitchBody,
    secret_problem,
)
from api.integrations.reads import IntegrationQuery, get_integration, list_integrations
from api.integrations.recording import check_recording
from api.integrations.store import INBOUND, ring
from api.problems import Problem, field_error, not_found, validation_problem
from api.reads.handlers import getter, lister
from api.responses import path_id
from schemas.ids import aggregate_id_for, command_id_for
from schemas.integrations import CreateIntegration, DeleteIntegration
from vault.keyring import VaultError


def _check_scopes(who: Principal, scopes: list[str]) -> None:
    # A token can hand its bot only what it may do itself: no escalation through a bot.
    beyond = sorted(set(scopes) - who.scopes)
    if beyond:
        raise validation_problem(
            [field_error(["body", "scopes"], f"this token lacks {', '.join(beyond)}")]
        )


async def _sealed(
    request: web.Request, who: Principal, integration_id: uuid.UUID, secret: str
) -> tuple[str, bool]:
    """The ring key that sealed the stored secret, and whether this call stored it."""
    keys, store = ring(request.app), request.app[INBOUND]
    try:
        before = await store.load_secret(keys, integration_id)
    except VaultError as exc:
        raise Problem(
            503,
            "the secret stored under this Idempotency-Key cannot be opened with the "
            "configured key ring",
            kind="secret-key-not-configured",
            headers={"Retry-After": "60"},
        ) from exc
    if before is not None:
        if before != (who.org_id, secret):
            raise key_reused()
        return keys.primary, False
    return await store.store_secret(keys, who.org_id, integration_id, secret), True


async def create_integration(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=True)
    body = (await read_command(request, IntegrationBodyModel)).root
    _check_scopes(who, list(body.scopes))
    assert key is not None  # required=True
    integration_id = aggregate_id_for(command_id_for(who.org_id, key))
    fresh = False
    if isinstance(body, DiscordBody):
        command = CreateIntegration(
            platform="discord",
            name=body.name,
            scopes=body.scopes,
            application_id=body.application_id,
            public_key=body.public_key.lower(),
        )
    else:
        assert isinstance(body, TwitchBody)
        reason = secret_problem(body.secret)
        if reason is not None:
            raise validation_problem([field_error(["body", "secret"], reason)])
        await check_recording(request.app, who.org_id, body.recording)
        key_id, fresh = await _sealed(request, who, integration_id, body.secret)
        command = CreateIntegration(
            platform="twitch",
            name=body.name,
            scopes=body.scopes,
            broadcaster_user_id=body.broadcaster_user_id,
            recording_project_id=body.recording.project_id,
            recording_asset_id=body.recording.asset_id,
            key_id=key_id,
        )
    cmd = prepare(request, who, command, command_data(command), key=key)
    try:
        await submit(request.app, cmd, creates=True)
    except Problem as refused:
        # The key was used before by another command: a secret stored for nothing
        # would outlive every integration. (A 503 keeps it: a retry finds it.)
        if fresh and refused.status == 422:
            await request.app[INBOUND].destroy_secret(integration_id)
        raise
    return accepted("integrations", cmd.aggregate_id, cmd.command_id)


async def delete_integration(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=False)
    integration_id = path_id(request, "integration")
    found = await get_integration(request.app[DATABASE], who.org_id, integration_id)
    if found is None and not await creation_pending(
        request.app, who.org_id, integration_id, CreateIntegration.TYPE
    ):
        raise not_found("integration")
    command = DeleteIntegration()
    cmd = prepare(
        request, who, command, command_data(command), key=key, aggregate_id=integration_id
    )
    await submit(request.app, cmd, creates=False)
    # Shredded at once: after a DELETE no EventSub message can be verified any more,
    # and no pending interaction token of it is kept.
    await request.app[INBOUND].forget(integration_id)
    return accepted("integrations", integration_id, cmd.command_id)


list_all = lister(IntegrationQuery, list_integrations)
get_one = getter("integration", get_integration)
