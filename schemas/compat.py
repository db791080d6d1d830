"""JSON Schema compatibility: may a reader of the new schema read data of the old one?

A published version is frozen in schemas/published/. A new schema for the same
version is compatible when every old property keeps its exact schema, no new
property is required, and nothing old becomes required or disappears. Anything else
needs a new version and an upcaster.
"""

from __future__ import annotations

from typing import Any

from schemas.base import Message

Schema = dict[str, Any]


def json_schema(model: type[Message]) -> Schema:
    return model.model_json_schema(mode="validation")


def incompatibilities(old: Schema, new: Schema) -> list[str]:
    """Reasons data valid under ``old`` may be refused under ``new`` (empty: compatible)."""
    problems: list[str] = []
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    for name, schema in old_props.items():
        if name not in new_props:
            problems.append(f"property {name!r} was removed")
        elif new_props[name] != schema:
            problems.append(f"property {name!r} changed its schema")
    added_required = set(new.get("required", [])) - set(old.get("required", []))
    problems.extend(f"property {name!r} became required" for name in sorted(added_required))
    if old.get("$defs", {}) != {
        k: v for k, v in new.get("$defs", {}).items() if k in old.get("$defs", {})
    }:
        problems.append("a shared definition ($defs) changed")
    if old.get("additionalProperties") != new.get("additionalProperties"):
        problems.append("additionalProperties changed")
    return problems
