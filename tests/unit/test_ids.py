"""Deterministic ids never change: every derivation equals uuid5 under the namespace."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas import ids

NAMES = ["", "a", 'command:["org", "key"]', "événement:ü:☃", "x" * 10_000, '\x00\n"']


@pytest.mark.parametrize("name", NAMES)
def test_the_fast_derivation_is_uuid5_under_the_namespace(name: str) -> None:
    assert ids._uuid5(name) == uuid.uuid5(ids.NAMESPACE, name)
    assert ids._uuid5(name).version == 5


def test_the_ids_of_a_command_are_the_ones_they_always_were() -> None:
    # Pinned: a change here would re-key every aggregate and break idempotency.
    command = ids.command_id_for("org-a", "key-1")
    assert command == uuid.uuid5(ids.NAMESPACE, 'command:["org-a", "key-1"]')
    assert ids.aggregate_id_for(command) == uuid.uuid5(ids.NAMESPACE, f"aggregate:{command}")
    assert ids.event_id_for(command, 2) == uuid.uuid5(ids.NAMESPACE, f"event:{command}:2")
    assert ids.derived_id(command, "clip") == uuid.uuid5(ids.NAMESPACE, f"clip:{command}")
    aggregate = ids.aggregate_id_for(command)
    assert ids.command_id_on("org-a", "k", aggregate) == uuid.uuid5(
        ids.NAMESPACE, f'command-on:["org-a", "{aggregate}", "k"]'
    )


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"title": "Launch", "platform": "youtube", "n": 3, "ok": True, "none": None},
        {"title": "événement ☃", "nested": {"b": [1, 2.5, "x"], "a": {}}},
        {"when": datetime(2025, 3, 1, 12, 0, tzinfo=UTC), "id": uuid.UUID(int=7)},
    ],
)
def test_a_fingerprint_is_sha256_of_the_canonical_json_it_always_was(data: dict[str, Any]) -> None:
    # Pinned: stored fingerprints decide whether a retried request is the same one.
    canonical = json.dumps(
        {"type": "queue.EnqueueItem", "data": data},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    assert ids.fingerprint("queue.EnqueueItem", data) == expected
