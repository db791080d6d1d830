"""Deterministic ids: a retry or a re-processed command must reproduce the same ids."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

# Fixed namespace for every uuid5 WaveStack derives. Changing it changes every id.
NAMESPACE = uuid.UUID("6f2b8f0e-3c1a-5d7e-9a41-0c5e2f7b9d13")
_NAMESPACE_BYTES = NAMESPACE.bytes


# RFC 4122's version (5) and variant bits, set on the digest's first 128 bits as
# ``uuid.UUID(bytes=..., version=5)`` sets them.
_VERSION_VARIANT_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_VERSION_5_VARIANT = (0x5000 << 64) | (0x8000 << 48)


def _uuid5(name: str) -> uuid.UUID:
    """``uuid.uuid5(NAMESPACE, name)``, the same ids at a quarter of the cost: the
    namespace's bytes are taken once, and the version bits set on an int with two
    masks (``UUID(int=...)``) rather than by ``UUID(bytes=..., version=5)``'s steps
    (a command costs the API three of these and the decider two;
    tests/unit/test_ids.py holds them equal)."""
    digest = hashlib.sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).digest()
    bits = int.from_bytes(digest[:16])
    return uuid.UUID(int=(bits & _VERSION_VARIANT_CLEAR) | _VERSION_5_VARIANT)


def command_id_for(org_id: str, idempotency_key: str) -> uuid.UUID:
    """The command id of a client request, scoped to its organization.

    JSON keeps the parts apart: org "a:b" with key "k" and org "a" with key "b:k"
    must not share an id."""
    return _uuid5(f"command:{json.dumps([org_id, idempotency_key])}")


def command_id_on(org_id: str, idempotency_key: str, aggregate_id: uuid.UUID) -> uuid.UUID:
    """The command id of a client request on an existing aggregate (cancel, reschedule):
    the same key reused on another aggregate is another command. JSON keeps the parts
    apart whatever characters they hold, and the prefix keeps these ids apart from
    ``command_id_for``'s."""
    parts = json.dumps([org_id, str(aggregate_id), idempotency_key])
    return _uuid5(f"command-on:{parts}")


def aggregate_id_for(command_id: uuid.UUID) -> uuid.UUID:
    """The id of the aggregate a creating command brings into being."""
    return _uuid5(f"aggregate:{command_id}")


def event_id_for(command_id: uuid.UUID, index: int) -> uuid.UUID:
    """The id of the index-th event a command produced (stable across re-processing)."""
    return _uuid5(f"event:{command_id}:{index}")


def derived_id(parent: uuid.UUID, purpose: str) -> uuid.UUID:
    """An id that follows from another one, e.g. a clip's output asset or an attempt."""
    return _uuid5(f"{purpose}:{parent}")


# What json.dumps(..., sort_keys=True, separators=(",", ":"), default=str) builds on
# every call, built once: the same text (stored fingerprints must keep matching).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def fingerprint(command_type: str, data: dict[str, Any]) -> str:
    """A stable digest of a request: same key + same body must give the same digest."""
    canonical = _CANONICAL.encode({"type": command_type, "data": data})
    return hashlib.sha256(canonical.encode()).hexdigest()
