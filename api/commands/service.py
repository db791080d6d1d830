"""Submitting a command: the idempotency check, then one produce to the commands topic."""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from aiohttp import web

from api.appkeys import DATABASE, FINGERPRINTS, LIMITER, METRICS, PRODUCER, RECENT, SETTINGS
from api.auth.principal import Principal
from api.backends.errors import Unavailable
from api.commands.envelope import IDEMPOTENCY_HEADER, Prepared
from api.commands.recent import AcceptedCommand
from api.problems import Problem, field_error
from api.reads.commands import creation_known
from schemas.codec import encode

log = structlog.get_logger(__name__)


def throttle(request: web.Request, who: Principal) -> None:
    wait = request.app[LIMITER].take(who.org_id)
    if wait > 0:
        raise Problem(
            429,
            "this organization is sending commands faster than its rate limit",
            kind="rate-limited",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


def key_reused() -> Problem:
    msg = "this Idempotency-Key was already used with a different request body"
    return Problem(
        422,
        msg,
        kind="idempotency-key-reused",
        title="Idempotency key reused",
        errors=[field_error(["header", IDEMPOTENCY_HEADER], msg)],
    )


async def known_fingerprint(app: web.Application, cmd: Prepared) -> str | None:
    """The fingerprint recorded for this command id, if this process or the read model
    already knows it. Without PostgreSQL the check is skipped: the decider makes the
    same check and records a `rejected` outcome, so correctness does not depend on it."""
    recent = app[RECENT].get(cmd.command_id)
    if recent is not None:
        return recent.fingerprint
    try:
        return await app[FINGERPRINTS].get(cmd.command_id, cmd.envelope.org_id)
    except Unavailable as exc:
        log.warning(
            "idempotency pre-check skipped",
            reason=exc.detail,
            command_id=str(cmd.command_id),
            org_id=cmd.envelope.org_id,
        )
        return None


async def submit(
    app: web.Application,
    cmd: Prepared,
    *,
    creates: bool,
    checks: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Produces ``cmd`` unless the same command is already known; 422 if its key was
    used with another body; Unavailable (503) when Kafka cannot take it in time.

    ``checks`` (raising a Problem) run only for a command not known yet: what they look
    at may have changed since (a file moved away), and a retry of an accepted command
    must still answer the same ids.
    """
    known = await known_fingerprint(app, cmd)
    if known is not None:
        if known != cmd.fingerprint:
            raise key_reused()
        return  # same key, same body: already on the log, answer the same ids
    if checks is not None:
        await checks()

    envelope = cmd.envelope

    async def produce() -> None:
        await app[PRODUCER].send(
            app[SETTINGS].topics.commands,
            key=str(envelope.aggregate_id).encode(),
            value=encode(envelope),
        )
        app[METRICS].commands.labels(envelope.type).inc()

    await app[RECENT].once(cmd.command_id, cmd.fingerprint, produce)
    app[RECENT].remember(
        AcceptedCommand(
            command_id=cmd.command_id,
            org_id=envelope.org_id,
            type=envelope.type,
            aggregate_type=envelope.aggregate_type,
            aggregate_id=envelope.aggregate_id,
            fingerprint=cmd.fingerprint,
            accepted_at=datetime.now(UTC),
        ),
        creates=creates,
    )
    log.debug(
        "command produced",
        command_id=str(cmd.command_id),
        type=envelope.type,
        org_id=envelope.org_id,
    )


async def creation_pending(
    app: web.Application, org_id: str, aggregate_id: uuid.UUID, command_type: str
) -> bool:
    """Whether ``aggregate_id`` was created a moment ago by a ``command_type`` command of
    ``org_id`` (accepted by this process, or pending in the read model), its row not
    projected yet."""
    recent = app[RECENT].creation_of(aggregate_id)
    if recent is not None and recent.org_id == org_id and recent.type == command_type:
        return True
    return await creation_known(app[DATABASE], org_id, aggregate_id, command_type)


def accepted(resource: str, aggregate_id: uuid.UUID, command_id: uuid.UUID) -> web.Response:
    # Written out rather than by json.dumps (half the cost of the answer, on every
    # command): a UUID's text needs no escaping.
    body = b'{"id": "%s", "command_id": "%s", "status": "accepted"}' % (
        str(aggregate_id).encode(),
        str(command_id).encode(),
    )
    return web.Response(
        body=body,
        status=202,
        content_type="application/json",
        headers={"Location": f"/v1/{resource}/{aggregate_id}"},
    )
