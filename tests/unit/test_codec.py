"""Encoding, decoding and upcasting of envelopes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from schemas import upcasting
from schemas.codec import DecodeError, decode, encode, payload_as, wrap
from schemas.commands import EnqueueItem
from schemas.envelope import Actor, Envelope
from schemas.ids import aggregate_id_for, command_id_for, event_id_for, fingerprint

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def enqueue_envelope(**data: object) -> Envelope:
    command_id = command_id_for("org-1", "key-1")
    body = {"platform": "youtube", "title": "Launch", **data}
    return wrap(
        EnqueueItem.model_validate(body),
        id=command_id,
        org_id="org-1",
        aggregate_id=aggregate_id_for(command_id),
        occurred_at=NOW,
        command_id=command_id,
        correlation_id=command_id,
        causation_id=command_id,
        actor=Actor(sub="bot-7", kind="bot"),
    )


def test_an_encoded_envelope_decodes_to_the_same_envelope_and_payload() -> None:
    envelope = enqueue_envelope()
    decoded = decode(encode(envelope))
    assert decoded == envelope
    assert payload_as(decoded, EnqueueItem).title == "Launch"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "tombstone"),
        (b"\xff\xfe not json", "invalid envelope"),
        (b'{"id": "x"}', "invalid envelope"),
    ],
)
def test_undecodable_bytes_raise_a_decode_error_with_a_reason(
    raw: bytes | None, reason: str
) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode(raw)


def test_an_unknown_type_is_a_decode_error() -> None:
    raw = json.loads(encode(enqueue_envelope()))
    raw["type"] = "queue.SomethingElse"
    with pytest.raises(DecodeError, match="unknown message type"):
        decode(json.dumps(raw).encode())


def test_invalid_data_is_a_decode_error_naming_the_field() -> None:
    raw = json.loads(encode(enqueue_envelope()))
    raw["data"]["title"] = ""
    with pytest.raises(DecodeError, match="title"):
        decode(json.dumps(raw).encode())


def test_a_version_newer_than_this_build_is_refused() -> None:
    raw = json.loads(encode(enqueue_envelope()))
    raw["version"] = 99
    with pytest.raises(DecodeError, match="newer"):
        decode(json.dumps(raw).encode())


@pytest.fixture
def enqueue_v2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Pretend EnqueueItem is at v2 and v1 called the title "name".
    monkeypatch.setattr(EnqueueItem, "VERSION", 2)

    @upcasting.upcaster("queue.EnqueueItem", 1)
    def rename(data: dict[str, object]) -> dict[str, object]:
        out = dict(data)
        out["title"] = out.pop("name")
        return out

    yield
    del upcasting.UPCASTERS[("queue.EnqueueItem", 1)]


def test_an_old_version_is_upcast_on_read(enqueue_v2: None) -> None:
    raw = json.loads(encode(enqueue_envelope()))
    raw["version"] = 1
    raw["data"]["name"] = raw["data"].pop("title")
    decoded = decode(json.dumps(raw).encode())
    assert decoded.version == 2
    assert payload_as(decoded, EnqueueItem).title == "Launch"


def test_an_old_version_without_an_upcaster_is_a_decode_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(EnqueueItem, "VERSION", 2)
    raw = json.loads(encode(enqueue_envelope()))
    raw["version"] = 1
    with pytest.raises(DecodeError, match="no upcaster"):
        decode(json.dumps(raw).encode())


def test_ids_are_deterministic_and_scoped_to_the_organization() -> None:
    assert command_id_for("a", "k") == command_id_for("a", "k")
    assert command_id_for("a", "k") != command_id_for("b", "k")
    cid = command_id_for("a", "k")
    assert event_id_for(cid, 0) != event_id_for(cid, 1)
    assert isinstance(aggregate_id_for(cid), uuid.UUID)


def test_the_fingerprint_ignores_key_order_but_not_values() -> None:
    assert fingerprint("t", {"a": 1, "b": 2}) == fingerprint("t", {"b": 2, "a": 1})
    assert fingerprint("t", {"a": 1}) != fingerprint("t", {"a": 2})
    assert fingerprint("t", {"a": 1}) != fingerprint("u", {"a": 1})


def test_schedule_at_without_an_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        EnqueueItem.model_validate(
            {"platform": "x", "title": "t", "schedule_at": "2026-12-01T10:00:00"}
        )


def test_command_ids_keep_organization_and_key_apart() -> None:
    assert command_id_for("a:b", "k") != command_id_for("a", "b:k")
