"""Renders docs/event-catalog.md from the catalog, so the document can't drift."""

from __future__ import annotations

from typing import Any

from schemas.base import Message
from schemas.catalog import COMMAND_TYPES, EVENT_TYPES
from schemas.compat import json_schema

HEADER = """# Event catalog

Generated from `schemas/` by `wavestack catalog > docs/event-catalog.md`; a test
fails when this file and the code disagree. Every message travels in the envelope of
DESIGN.md §7 (`id`, `type`, `version`, `org_id`, `aggregate_type`, `aggregate_id`,
`sequence` (events only), `occurred_at`, `command_id`, `correlation_id`,
`causation_id`, `actor`, `data`); the tables below describe `data`.

Topics: `<prefix>.commands` (commands), `<prefix>.events` (events, kept forever),
`<prefix>.dlq` (poison messages with reason headers). Keys are aggregate ids.
"""


def _type_of(prop: dict[str, Any]) -> str:
    if "anyOf" in prop:
        return " or ".join(_type_of(p) for p in prop["anyOf"])
    if "enum" in prop:
        return " / ".join(f"`{v}`" for v in prop["enum"])
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    kind = str(prop.get("type", "any"))
    fmt = prop.get("format")
    return f"{kind} ({fmt})" if fmt else kind


def _section(model: type[Message]) -> list[str]:
    schema = json_schema(model)
    required = set(schema.get("required", []))
    lines = [
        f"### `{model.TYPE}` v{model.VERSION}",
        "",
        f"Aggregate: `{model.AGGREGATE_TYPE}`. {(model.__doc__ or '').strip()}".rstrip(),
        "",
        "| field | type | required |",
        "| --- | --- | --- |",
    ]
    for name, prop in schema.get("properties", {}).items():
        lines.append(f"| `{name}` | {_type_of(prop)} | {'yes' if name in required else 'no'} |")
    return [*lines, ""]


def render_catalog() -> str:
    out = [HEADER, "## Commands", ""]
    for name in sorted(COMMAND_TYPES):
        out += _section(COMMAND_TYPES[name])
    out += ["## Events", ""]
    for name in sorted(EVENT_TYPES):
        out += _section(EVENT_TYPES[name])
    return "\n".join(out).rstrip() + "\n"
