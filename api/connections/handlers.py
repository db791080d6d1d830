"""POST/DELETE /v1/connections: credentials sealed and stored before the command goes out.

Plaintext credentials live only inside ``create_connection``: checked, sealed under a
fresh data key, and dropped. The key row is stored before ``CreateConnection`` is
produced, so the publisher can open every connection the log names; a retry with the
same Idempotency-Key finds the row and reuses it (same sealed text, same fingerprint).
"""

from __future__ import annotations

import uuid

from aiohttp import web

from api.appkeys import DATABASE, KEY_TABLE, SETTINGS
from api.auth.principal import Principal
from api.commands.body import command_data, read_command
from api.commands.envelope import idempotency_key, prepare
from api.commands.service import accepted, creation_pending, key_reused, submit, throttle
from api.connections.bodies import ConnectionBody, check_credentials
from api.connections.keys import KeyTable, not_configured
from api.connections.reads import get_connection
from api.problems import Problem, field_error, not_found, validation_problem
from api.responses import path_id
from schemas.ids import aggregate_id_for, command_id_for
from schemas.publishing import SEALED_MAX_CHARS, CreateConnection, DeleteConnection
from vault import keytable
from vault.keyring import KeyRing, VaultError


async def _key_row(
    keys: KeyTable,
    ring: KeyRing,
    who: Principal,
    connection_id: str,
    platform: str,
    credentials: dict[str, str],
) -> tuple[keytable.StoredConnection, bool]:
    """The stored row of this connection and whether this call stored it (else a first
    attempt did)."""
    wrapped, sealed = keytable.seal_new(ring, who.org_id, connection_id, credentials)
    if len(sealed) > SEALED_MAX_CHARS:  # long non-ASCII values grow when escaped
        raise validation_problem(
            [field_error(["body", "credentials"], "the credentials are too long together")]
        )
    row = keytable.StoredConnection(
        connection_id, who.org_id, platform, wrapped, sealed_credentials=sealed
    )
    if await keys.store(row):
        return row, True
    existing = await keys.load(connection_id)
    if existing is None:  # deleted between the two statements: a retry of a deleted one
        raise key_reused()
    if existing.org_id != who.org_id or existing.platform != platform:
        raise key_reused()
    try:
        opened = keytable.open_credentials(existing, ring)
    except VaultError as exc:
        raise not_configured(
            "the connection stored under this Idempotency-Key cannot be opened with the "
            "configured key ring"
        ) from exc
    if opened != credentials:
        raise key_reused()
    return existing, False


async def create_connection(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=True)
    body = await read_command(request, ConnectionBody)
    allow_private = request.app[SETTINGS].egress_allow_private
    credentials, errors = check_credentials(
        body.platform, body.credentials, allow_private=allow_private
    )
    if errors:
        raise validation_problem(errors)
    keys = request.app[KEY_TABLE]
    ring = keys.ring()  # 503 before anything is stored when no ring is configured
    assert key is not None  # required=True
    connection_id = aggregate_id_for(command_id_for(who.org_id, key))
    row, fresh = await _key_row(keys, ring, who, str(connection_id), body.platform, credentials)
    command = CreateConnection(
        platform=body.platform,
        name=body.name,
        sealed_credentials=row.sealed_credentials,
        key_id=row.wrapped_key.kid,
    )
    cmd = prepare(request, who, command, command_data(command), key=key)
    try:
        await submit(request.app, cmd, creates=True)
    except Problem as refused:
        # The key was used before (a deleted connection's, another command's): a row
        # stored for nothing would keep credentials that no connection owns. (A 503
        # keeps the row: the command may be on the log, and a retry finds the row.)
        if fresh and refused.status == 422:
            await keys.destroy(str(connection_id))
        raise
    return accepted("connections", cmd.aggregate_id, cmd.command_id)


async def _exists(request: web.Request, who: Principal, connection_id: uuid.UUID) -> bool:
    """Whether the caller's organization has (or is creating) this connection."""
    stored = await request.app[KEY_TABLE].load(str(connection_id))
    if stored is not None:
        return stored.org_id == who.org_id
    if await get_connection(request.app[DATABASE], who.org_id, connection_id) is not None:
        return True  # already shredded; the decider answers a repeat as a duplicate
    return await creation_pending(request.app, who.org_id, connection_id, CreateConnection.TYPE)


async def delete_connection(request: web.Request, who: Principal) -> web.StreamResponse:
    throttle(request, who)
    key = idempotency_key(request, required=False)
    connection_id = path_id(request, "connection")
    if not await _exists(request, who, connection_id):
        raise not_found("connection")
    command = DeleteConnection()
    cmd = prepare(request, who, command, command_data(command), key=key, aggregate_id=connection_id)
    await submit(request.app, cmd, creates=False)
    # Shredded at once, not only when the publisher sees ConnectionDeleted: after a
    # DELETE the credentials must not open, whatever happens to the publisher.
    await request.app[KEY_TABLE].destroy(str(connection_id))
    return accepted("connections", connection_id, cmd.command_id)
