"""What the client's parts share: the HTTP core and local validation of request bodies."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ValidationError

from client.errors import ValidationFailed
from client.http import Http
from client.models import Accepted


def new_key(given: str | None) -> str:
    """The caller's Idempotency-Key, or a fresh one; every retry of a call reuses it."""
    return given if given is not None else str(uuid.uuid4())


def body_of(model: type[BaseModel], **fields: Any) -> dict[str, Any]:
    """The request body: the fields given (None = not given, so the server's defaults
    apply), checked against the same `schemas/` model the server validates with."""
    given = {name: value for name, value in fields.items() if value is not None}
    try:
        command = model.model_validate(given)
    except ValidationError as exc:
        errors = [
            {"loc": ["body", *err["loc"]], "msg": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        problem = {
            "type": "urn:wavestack:problem:validation",
            "title": "Invalid request",
            "status": 422,
            "detail": "the request has invalid fields (checked before sending)",
            "errors": errors,
        }
        raise ValidationFailed(422, problem, {}) from exc
    return command.model_dump(mode="json", exclude_unset=True)


class Base:
    _http: Http

    async def _post(self, path: str, body: Any, key: str, *, method: str = "POST") -> Accepted:
        reply = await self._http.call(
            method, path, json_body=body, headers={"Idempotency-Key": key}
        )
        return Accepted.model_validate({**reply.json(), "location": reply.headers.get("Location")})
