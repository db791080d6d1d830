"""RFC 9457 problem details: the one shape every error answer takes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from aiohttp import web
from pydantic import ValidationError

PROBLEM_JSON = "application/problem+json"
# Problem type URIs: stable identifiers a client can switch on (documented in docs/api.md).
TYPE_PREFIX = "urn:wavestack:problem:"

Loc = list[str | int]


class Problem(Exception):
    """An error answer; raise it anywhere below a handler and the middleware renders it."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        title: str | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = f"{TYPE_PREFIX}{kind}" if kind else "about:blank"
        self.title = title or HTTPStatus(status).phrase
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc

    def response(self) -> web.Response:
        return web.Response(
            status=self.status,
            body=json.dumps(self.body()).encode(),
            content_type=PROBLEM_JSON,
            headers=self.headers,
        )


def field_error(loc: Loc, msg: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg}


def validation_problem(errors: list[dict[str, Any]]) -> Problem:
    return Problem(
        422,
        "the request has invalid fields",
        kind="validation",
        title="Invalid request",
        errors=errors,
    )


def from_validation_error(exc: ValidationError, where: str) -> Problem:
    """Maps pydantic's errors to ``{"loc": [where, ...], "msg"}`` (where: body, query, path)."""
    errors = [
        field_error([where, *err["loc"]], _message(err["msg"]))
        for err in exc.errors(include_url=False, include_input=False)
    ]
    return validation_problem(errors)


def _message(msg: str) -> str:
    # Custom validators raise ValueError("..."), which pydantic prefixes with "Value error, ".
    return msg.removeprefix("Value error, ")


def unauthorized(detail: str, *, invalid_token: bool = True) -> Problem:
    challenge = 'Bearer realm="wavestack"'
    if invalid_token:
        # RFC 6750 §3: error_description must not contain a double quote or backslash.
        safe = detail.replace('"', "'").replace("\\", "/")
        challenge += f', error="invalid_token", error_description="{safe}"'
    return Problem(
        401,
        detail,
        kind="unauthorized",
        title="Authentication required",
        headers={"WWW-Authenticate": challenge},
    )


def forbidden(scope: str) -> Problem:
    return Problem(
        403,
        f"this token lacks the scope {scope!r}",
        kind="insufficient-scope",
        title="Missing scope",
        headers={
            "WWW-Authenticate": f'Bearer realm="wavestack", error="insufficient_scope", '
            f'scope="{scope}"'
        },
    )


def not_found(what: str = "resource") -> Problem:
    return Problem(404, f"no such {what}", kind="not-found", title="Not found")


def unavailable(dependency: str, detail: str, retry_after: int) -> Problem:
    return Problem(
        503,
        detail,
        kind="dependency-unavailable",
        title="Service unavailable",
        headers={"Retry-After": str(retry_after)},
        extra={"dependency": dependency},
    )
