"""Published message versions are frozen: an incompatible change fails here.

To publish a new type or version, write its snapshot once:
    .venv/bin/python -m tests.unit.test_schema_compatibility --write
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from schemas.base import Message
from schemas.catalog import COMMAND_TYPES, EVENT_TYPES
from schemas.compat import incompatibilities, json_schema

PUBLISHED = Path(__file__).resolve().parents[2] / "schemas" / "published"
ALL_TYPES = {**COMMAND_TYPES, **EVENT_TYPES}


def snapshot_path(model: type[Message]) -> Path:
    return PUBLISHED / f"{model.TYPE}.v{model.VERSION}.json"


@pytest.mark.parametrize("message_type", sorted(ALL_TYPES))
def test_current_schema_can_read_its_published_version(message_type: str) -> None:
    model = ALL_TYPES[message_type]
    path = snapshot_path(model)
    assert path.exists(), f"{path.name} is not published; run this module with --write"
    published = json.loads(path.read_text())
    assert incompatibilities(published, json_schema(model)) == []


def test_removing_a_property_is_incompatible() -> None:
    old = {"properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"]}
    new = {"properties": {"a": {"type": "string"}}, "required": ["a"]}
    assert incompatibilities(old, new) == ["property 'b' was removed"]


def test_a_new_required_property_is_incompatible_and_an_optional_one_is_not() -> None:
    old = {"properties": {"a": {"type": "string"}}, "required": ["a"]}
    optional = {
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
        "required": ["a"],
    }
    required = {**optional, "required": ["a", "b"]}
    assert incompatibilities(old, optional) == []
    assert incompatibilities(old, required) == ["property 'b' became required"]


def test_changing_a_property_type_is_incompatible() -> None:
    old = {"properties": {"a": {"type": "string"}}}
    new = {"properties": {"a": {"type": "integer"}}}
    assert incompatibilities(old, new) == ["property 'a' changed its schema"]


def write_snapshots() -> None:
    PUBLISHED.mkdir(exist_ok=True)
    for model in ALL_TYPES.values():
        path = snapshot_path(model)
        if not path.exists():
            path.write_text(json.dumps(json_schema(model), indent=2, sort_keys=True) + "\n")
            print(f"published {path.name}")


if __name__ == "__main__" and "--write" in sys.argv:
    write_snapshots()
