"""The OpenAPI 3.1 document, generated from the route table and the pydantic models."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api.appkeys import OPENAPI, OpenApiDocument
from api.commands.body import MAX_BODY_BYTES
from api.reads import asof

if TYPE_CHECKING:
    from api.routes import Route

REF = "#/components/schemas/{model}"
SERVER_FILLED = frozenset({"resolved_source", "connection_platform", "schedule_local"})
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}
ACCEPTED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "command_id", "status"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "command_id": {"type": "string", "format": "uuid"},
        "status": {"const": "accepted"},
    },
}


AS_OF_PARAMETER: dict[str, Any] = {
    "name": asof.PARAM,
    "in": "query",
    "description": "Read the point-in-time model an operator built for exactly this time "
    "(wavestack rebuild --until-time); 422 when there is none",
    "schema": {"type": "string", "format": "date-time"},
}


def throttled(route: Route) -> bool:
    """Routes that put a command on the log: each takes a token of the org's rate limit."""
    return route.scope is not None and (
        route.body is not None or route.idempotency is not None or route.method == "POST"
    )


def _problem(description: str) -> dict[str, Any]:
    schema = {"$ref": REF.format(model="Problem")}
    return {"description": description, "content": {"application/problem+json": {"schema": schema}}}


def _operation(route: Route, names: dict[type[BaseModel], str]) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": route.summary, "parameters": [], "responses": {}}
    for name in re.findall(r"{(\w+)}", route.path):
        op["parameters"].append(
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        )
    if route.query is not None:
        schema = route.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            op["parameters"].append({"name": name, "in": "query", "schema": prop})
        op["responses"]["422"] = _problem(
            "Invalid query parameters (an unknown one, a limit out of range), "
            "or a cursor this list did not issue"
        )
    if route.handler in asof.SUPPORTED:
        op["parameters"].append(AS_OF_PARAMETER)
        op["responses"].setdefault("422", _problem("Invalid query parameters"))
        op["responses"]["422"]["description"] += "; as_of: no point-in-time model for that time"
    if route.idempotency is not None:
        op["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": route.idempotency == "required",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            }
        )
    if route.body is not None:
        op["requestBody"] = {
            "required": not route.body_optional,
            "content": {
                "application/json": {"schema": {"$ref": REF.format(model=names[route.body])}}
            },
        }
        # A creating route that answers 201 (a webhook: its secret) has no generic 202.
        success = "201" if "201" in {status for status, _ in route.answers} else "202"
        op["responses"][success] = {
            "description": "Accepted: the command is on the log",
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Accepted")}}},
        }
        for status, what in (
            ("400", "Malformed request"),
            ("413", f"Body over {MAX_BODY_BYTES // 1024 // 1024} MiB"),
            ("415", "Not JSON"),
            ("422", "Invalid fields or reused key"),
            ("429", "Rate limited"),
            ("503", "Kafka or PostgreSQL unreachable"),
        ):
            op["responses"][status] = _problem(what)
    else:
        ok: dict[str, Any] = {"description": "OK"}
        if route.response is not None:
            ok["content"] = {
                route.media: {"schema": {"$ref": REF.format(model=names[route.response])}}
            }
        else:
            ok["content"] = {route.media: {}}
        # A route whose answers name its own success (202, 204) has no generic 200.
        if not {"202", "204"} & {status for status, _ in route.answers}:
            op["responses"]["200"] = ok
    for status, what in route.answers:
        if status.startswith("4"):
            op["responses"][status] = _problem(what)
        else:
            op["responses"][status] = {"description": what}
    if throttled(route):
        op["responses"]["429"] = _problem("The organization is over its command rate (Retry-After)")
    if route.scope is not None:
        op["security"] = [{"bearer": [route.scope]}]
        op["responses"]["401"] = _problem("Missing or invalid token")
        op["responses"]["403"] = _problem(f"The token lacks the scope {route.scope}")
        if "{" in route.path or route.method != "GET":
            # A list names nothing that could be missing; a command may (a project_id).
            op["responses"].setdefault("404", _problem("Unknown, or another organization's"))
        op["responses"].setdefault("503", _problem("A dependency is unreachable"))
    return op


def build_document(routes: list[Route]) -> dict[str, Any]:
    models = {m for r in routes for m in (r.body, r.response) if m is not None}
    mapping, defs = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)], ref_template=REF
    )
    names: dict[type[BaseModel], str] = {
        model: ref["$ref"].rsplit("/", 1)[-1]
        for (model, _), ref in mapping.items()
        if isinstance(model, type) and issubclass(model, BaseModel)
    }
    schemas = {**defs.get("$defs", {}), "Problem": PROBLEM_SCHEMA, "Accepted": ACCEPTED_SCHEMA}
    for body in {r.body for r in routes if r.body is not None}:
        # Fields the API fills in itself: a client that sends them is refused.
        properties = schemas[names[body]].get("properties", {})
        for field in SERVER_FILLED & properties.keys():
            del properties[field]
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, names)
    return {
        "openapi": "3.1.0",
        "info": {"title": "WaveStack API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def document_bytes(routes: list[Route]) -> OpenApiDocument:
    return OpenApiDocument(json.dumps(build_document(routes), sort_keys=True).encode())


async def serve(request: web.Request) -> web.StreamResponse:
    return web.Response(body=request.app[OPENAPI].body, content_type="application/json")
