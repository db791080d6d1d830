"""Reading a JSON request body into a command model: 415, 413, 400 and 422 live here."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from api.problems import Problem, field_error, from_validation_error, validation_problem
from api.storable import unstorable

M = TypeVar("M", bound=BaseModel)

MAX_BODY_BYTES = 1024 * 1024


def _is_json(request: web.Request) -> bool:
    mime = request.content_type
    json_type = mime == "application/json" or (
        mime.startswith("application/") and mime.endswith("+json")
    )
    # RFC 8259: JSON exchanged between systems is UTF-8.
    return json_type and (request.charset or "utf-8").lower() in ("utf-8", "utf8")


async def read_command(request: web.Request, model: type[M], *, optional: bool = False) -> M:
    """Validates the body against ``model``; an empty body is ``{}`` when ``optional``."""
    if optional and not request.body_exists:
        return model.model_validate({})
    if not _is_json(request):
        raise Problem(
            415,
            "send the body as application/json (UTF-8)",
            kind="unsupported-media-type",
            headers={"Accept-Post": "application/json"},
        )
    raw = await request.read()  # raises 413 past client_max_size
    if optional and not raw.strip():
        return model.model_validate({})
    try:
        command = model.model_validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise Problem(
                400, "the body is not valid JSON", kind="malformed-json", title="Malformed JSON"
            ) from exc
        raise from_validation_error(exc, "body") from exc
    # Values JSON parsers accept but the rest of the system cannot hold: NaN/Infinity
    # (and 1e400, which overflows to inf) become null on the log, PostgreSQL text cannot
    # store NUL, and some dates overflow in UTC. Each would poison the command.
    bad = list(unstorable(command.model_dump(exclude_unset=True), ["body"]))
    if bad:
        raise validation_problem([field_error(loc, msg) for loc, msg in bad])
    return command


def command_data(command: BaseModel) -> dict[str, Any]:
    """The command as the client sent it, normalised: omitted fields stay omitted, so the
    decider fills defaults (``schedule_at`` = the envelope's occurred_at) and a retry
    has the same fingerprint."""
    return command.model_dump(mode="json", exclude_unset=True)
