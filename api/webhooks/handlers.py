"""The /v1/webhooks routes: a data key stored before the command, secrets derived from it.

A subscription's secret is shown in the create answer and in each rotate answer, and
nowhere else: it is derived from the subscription's data key and the command's id
(vault/webhook_secrets.py), so a retry with the same Idempotency-Key answers the same
secret, and nothing secret, sealed or not, goes on the log.
"""

from __future__ import annotations

import uuid

from aiohttp import web

from api.appkeys import DATABASE, KEY_TABLE, SETTINGS
from api.auth.principal import Principal
from api.commands.body import command_data, read_command
from api.commands.envelope import idempotency_key, prepare
from api.commands.service import accepted, creation_pending, key_reused, submit, throttle
from api.connections.keys import not_configured
from api.problems import Problem, not_found, validation_problem
from api.reads.paging import parse_query
from api.responses import json_model, path_id
from api.webhooks import reads
from api.webhooks.bodies import ReplayBody, WebhookBody, check
from schemas.ids import aggregate_id_for, command_id_for
from schemas.webhooks import CreateWebhook, DeleteWebhook, ReplayWebhook, RotateWebhookSecret
from vault import keytable, webhook_secrets
from vault.keyring import VaultError

WHAT = "webhook"


def _with_secret(
    subscription_id: uuid.UUID, command_id: uuid.UUID, secret: str, status: int
) -> web.Response:
    """The accepted answer plus the secret: the one time it is shown."""
    body = {
        "id": str(subscription_id),
        "command_id": str(command_id),
        "status": "accepted",
        "secret": secret,
    }
    headers = {"Location": f"/v1/webhooks/{subscription_id}", "Cache-Control": "no-store"}
    return web.json_response(body, status=status, headers=headers)


async def _stored_row(
    request: web.Request, who: Principal, subscription_id: uuid.UUID
) -> tuple[keytable.StoredConnection, bool]:
    """The subscription's key row and whether this call stored it (else a first try did)."""
    keys = request.app[KEY_TABLE]
    ring = keys.ring()  # 503 before anything is stored when no ring is configured
    row = webhook_secrets.new_row(ring, who.org_id, str(subscription_id))
    if await keys.store(row):
        return row, True
    existing = await keys.load(str(subscription_id))
    if existing is None or existing.org_id != who.org_id:
        raise key_reused()  # deleted since, or the id is taken: the key was used before
    if existing.platform != webhook_secrets.SUBSCRIPTION_KIND:
        raise key_reused()
    return existing, False


def _data_key(request: web.Request, row: keytable.StoredConnection) -> bytes:
    try:
        return webhook_secrets.data_key(row, request.app[KEY_TABLE].ring())
    except VaultError as exc:
        raise not_configured(
            "the webhook's key cannot be opened with the configured key ring"
        ) from exc


async def create_webhook(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=True)
    assert key is not None  # required=True
    body = await read_command(request, WebhookBody)
    errors = check(body, request.app[SETTINGS].egress_allow_private)
    if errors:
        raise validation_problem(errors)
    subscription_id = aggregate_id_for(command_id_for(who.org_id, key))
    row, fresh = await _stored_row(request, who, subscription_id)
    data_key = _data_key(request, row)
    command = CreateWebhook(
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        key_id=row.wrapped_key.kid,
    )
    cmd = prepare(request, who, command, command_data(command), key=key)
    try:
        await submit(request.app, cmd, creates=True)
    except Problem as refused:
        # Refused for a key used before: a key row stored for nothing is removed.
        if fresh and refused.status == 422:
            await request.app[KEY_TABLE].destroy(str(subscription_id))
        raise
    secret = webhook_secrets.derive_secret(
        data_key, who.org_id, str(subscription_id), cmd.command_id
    )
    return _with_secret(subscription_id, cmd.command_id, secret, 201)


async def _own_row(
    request: web.Request, who: Principal, subscription_id: uuid.UUID
) -> keytable.StoredConnection:
    """The key row of the caller's own live subscription, else 404."""
    stored = await request.app[KEY_TABLE].load(str(subscription_id))
    if (
        stored is None
        or stored.org_id != who.org_id
        or stored.platform != webhook_secrets.SUBSCRIPTION_KIND
    ):
        raise not_found(WHAT)
    return stored


async def _known(request: web.Request, who: Principal, subscription_id: uuid.UUID) -> bool:
    db = request.app[DATABASE]
    if await reads.get_webhook(db, who.org_id, subscription_id) is not None:
        return True
    return await creation_pending(request.app, who.org_id, subscription_id, CreateWebhook.TYPE)


async def rotate_secret(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=False)
    subscription_id = path_id(request, WHAT)
    row = await _own_row(request, who, subscription_id)
    data_key = _data_key(request, row)
    command = RotateWebhookSecret()
    cmd = prepare(
        request, who, command, command_data(command), key=key, aggregate_id=subscription_id
    )
    await submit(request.app, cmd, creates=False)
    secret = webhook_secrets.derive_secret(
        data_key, who.org_id, str(subscription_id), cmd.command_id
    )
    return _with_secret(subscription_id, cmd.command_id, secret, 202)


async def delete_webhook(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=False)
    subscription_id = path_id(request, WHAT)
    stored = await request.app[KEY_TABLE].load(str(subscription_id))
    if stored is not None and stored.org_id != who.org_id:
        raise not_found(WHAT)
    if stored is None and not await _known(request, who, subscription_id):
        raise not_found(WHAT)
    command = DeleteWebhook()
    cmd = prepare(
        request, who, command, command_data(command), key=key, aggregate_id=subscription_id
    )
    await submit(request.app, cmd, creates=False)
    # Shredded at once: after a DELETE no secret of it can be derived again.
    await request.app[KEY_TABLE].destroy(str(subscription_id))
    return accepted("webhooks", subscription_id, cmd.command_id)


async def replay(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=False)
    subscription_id = path_id(request, WHAT)
    await _own_row(request, who, subscription_id)
    body = await read_command(request, ReplayBody)
    command = ReplayWebhook(since=body.since)
    cmd = prepare(
        request, who, command, command_data(command), key=key, aggregate_id=subscription_id
    )
    await submit(request.app, cmd, creates=False)
    return accepted("webhooks", subscription_id, cmd.command_id)


async def list_webhooks(request: web.Request, who: Principal) -> web.StreamResponse:
    query = parse_query(request, reads.WebhookQuery)
    return json_model(await reads.list_webhooks(request.app[DATABASE], who.org_id, query))


async def get_webhook(request: web.Request, who: Principal) -> web.StreamResponse:
    found = await reads.get_webhook(request.app[DATABASE], who.org_id, path_id(request, WHAT))
    if found is None:
        raise not_found(WHAT)
    return json_model(found)


async def list_deliveries(request: web.Request, who: Principal) -> web.StreamResponse:
    subscription_id = path_id(request, WHAT)
    query = parse_query(request, reads.DeliveryQuery)
    db = request.app[DATABASE]
    if await reads.get_webhook(db, who.org_id, subscription_id) is None:
        raise not_found(WHAT)
    return json_model(await reads.list_deliveries(db, who.org_id, subscription_id, query))
