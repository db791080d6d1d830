"""Small helpers every handler uses: pydantic models out as JSON, ids in from the path."""

from __future__ import annotations

import uuid

from aiohttp import web
from pydantic import BaseModel

from api.problems import not_found


def json_model(model: BaseModel) -> web.Response:
    return web.Response(body=model.model_dump_json().encode(), content_type="application/json")


def path_id(request: web.Request, what: str, name: str = "id") -> uuid.UUID:
    """The UUID in the path; anything else names no resource, hence 404 (not 422)."""
    try:
        return uuid.UUID(request.match_info[name])
    except ValueError as exc:
        raise not_found(what) from exc
