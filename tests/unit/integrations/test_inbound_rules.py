"""The pure rules of inbound bots: signatures, `!clip`, the aggregate, the follow-ups."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import ConsumerRecord
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from api.integrations.discord_verify import signature_valid as discord_valid
from api.integrations.discord_verify import timestamp_fresh as discord_fresh
from api.integrations.twitch_chat import clip_seconds, privileged
from api.integrations.twitch_verify import parse_timestamp, timestamp_fresh
from api.integrations.twitch_verify import signature_valid as twitch_valid
from schemas.base import Message
from schemas.codec import Decoded
from schemas.envelope import Actor, Envelope
from schemas.events import CommandOutcomeRecorded, ItemEnqueued
from schemas.integrations import CreateIntegration, DeleteIntegration, RevokeIntegration
from streams.domain import integration
from streams.integrations.app import wanted
from streams.integrations.followups import followup
from tests.fakes.twitch import FakeTwitch, twitch_timestamp
from vault.inbound import PendingReply

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_discord_signatures_verify_over_timestamp_and_body_only_with_the_right_key() -> None:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    signature = key.sign(b"1700000000" + b'{"type":1}').hex()
    assert discord_valid(public, signature, "1700000000", b'{"type":1}')
    assert not discord_valid(public, signature, "1700000001", b'{"type":1}')
    assert not discord_valid(public, signature, "1700000000", b'{"type":2}')
    assert not discord_valid(public, "zz", "1700000000", b"{}")
    assert not discord_valid("00", signature, "1700000000", b'{"type":1}')
    assert discord_fresh("1700000000", now=1700000000 + 599)
    assert not discord_fresh("1700000000", now=1700000000 + 601)
    assert not discord_fresh("١٧٠٠", now=1700000000)


def test_twitch_signatures_and_the_ten_minute_window() -> None:
    fake = FakeTwitch("secret-secret")
    stamp = twitch_timestamp(NOW)
    good = fake.signature("id-1", stamp, b"{}")
    assert twitch_valid("secret-secret", "id-1", stamp, b"{}", good)
    assert not twitch_valid("secret-secret", "id-2", stamp, b"{}", good)
    assert not twitch_valid("other-secret", "id-1", stamp, b"{}", good)
    assert not twitch_valid("secret-secret", "id-1", stamp, b"{}", good.upper())
    assert parse_timestamp("2026-12-01T12:00:00.123456789Z") == NOW + timedelta(microseconds=123456)
    assert parse_timestamp("2026-12-01T12:00:00Z") == NOW
    assert parse_timestamp("yesterday") is None
    assert timestamp_fresh(twitch_timestamp(NOW - timedelta(minutes=9)), now=NOW)
    assert not timestamp_fresh(twitch_timestamp(NOW - timedelta(minutes=11)), now=NOW)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("!clip", 30), ("!clip 45", 45), ("  !CLIP 1 ", 1), ("!clip 120", 120), ("!clip 121", None),
     ("!clip 0", None), ("!clip now", None), ("clip 30", None), ("!clipper", None)],
)  # fmt: skip
def test_clip_commands_parse_to_1_to_120_seconds(text: str, seconds: int | None) -> None:
    assert clip_seconds(text) == seconds


def test_only_moderators_and_the_broadcaster_may_clip() -> None:
    assert privileged({"badges": [{"set_id": "moderator"}]}, "1")
    assert privileged({"badges": [{"set_id": "broadcaster"}]}, "1")
    assert privileged({"chatter_user_id": "1", "badges": []}, "1")
    assert not privileged({"chatter_user_id": "2", "badges": [{"set_id": "vip"}]}, "1")
    assert not privileged({"badges": "moderator"}, "1")


def test_the_integration_aggregate_revokes_and_deletes_once() -> None:
    create = CreateIntegration(
        platform="discord", name="b", scopes=["read"], application_id="1", public_key="ab" * 32
    )
    decision = integration.decide(create, None, NOW)
    assert decision.outcome == "applied"
    state = integration.evolve(None, decision.events[0])
    assert integration.decide(create, state, NOW).status == 409
    revoked = integration.decide(RevokeIntegration(reason="user_removed"), state, NOW)
    state = integration.evolve(state, revoked.events[0])
    assert state.status == "revoked"
    assert integration.decide(RevokeIntegration(reason="x"), state, NOW).outcome == "duplicate"
    deleted = integration.decide(DeleteIntegration(), state, NOW)
    assert integration.evolve(state, deleted.events[0]).status == "deleted"
    incomplete = CreateIntegration(platform="twitch", name="t", scopes=["clips:write"])
    assert integration.decide(incomplete, None, NOW).status == 422


def _reply(kind: str, command_id: uuid.UUID, aggregate_id: uuid.UUID) -> PendingReply:
    return PendingReply(command_id, "org-a", uuid.uuid4(), "1", aggregate_id, kind, NOW, None, "t")


def _decoded(
    message: ItemEnqueued | CommandOutcomeRecorded, command_id: uuid.UUID, org: str = "org-a"
) -> Decoded[Message]:
    env = Envelope(
        id=uuid.uuid4(), type=message.TYPE, version=1, org_id=org,
        aggregate_type=message.AGGREGATE_TYPE,
        aggregate_id=uuid.uuid4(), sequence=1, occurred_at=NOW, command_id=command_id,
        correlation_id=command_id, causation_id=command_id, actor=Actor(sub="x"),
        data=message.model_dump(mode="json"),
    )  # fmt: skip
    return Decoded(env, message)


def test_a_queued_item_and_a_refusal_are_told_and_nothing_else_is() -> None:
    command_id = uuid.uuid4()
    reply = _reply("queue", command_id, uuid.uuid4())
    item = ItemEnqueued(
        platform="discord", title="Hi", description="", project_id=None, asset_id=None,
        schedule_at=NOW, timezone="UTC", target={},
    )  # fmt: skip
    assert "Queued “Hi” for discord" in (
        followup(_decoded(item, command_id), reply, "http://x") or ""
    )
    assert followup(_decoded(item, uuid.uuid4()), reply, "http://x") is None
    assert followup(_decoded(item, command_id, org="org-b"), reply, "http://x") is None
    refused = CommandOutcomeRecorded(
        command_type="queue.EnqueueItem", outcome="rejected", target_aggregate_type="queue_item",
        target_aggregate_id=uuid.uuid4(), fingerprint="f", reason="no such connection",
    )  # fmt: skip
    assert followup(_decoded(refused, command_id), reply, "x") == "Refused: no such connection"
    applied = refused.model_copy(update={"outcome": "applied", "reason": None})
    assert followup(_decoded(applied, command_id), reply, "x") is None


def _record(type_header: bytes | None, age_seconds: float) -> ConsumerRecord[bytes, bytes]:
    headers = [] if type_header is None else [("type", type_header)]
    stamp = int((time.time() - age_seconds) * 1000)
    return ConsumerRecord("t", 0, 0, stamp, 0, None, b"{}", None, 0, 2, headers)


def test_the_consumer_passes_over_other_types_and_stale_events_without_parsing() -> None:
    now = time.time()
    assert wanted(_record(b"clip.ClipCompleted", 5), now)
    assert wanted(_record(b"command.CommandOutcomeRecorded", 5), now)
    assert wanted(_record(None, 5), now)  # an older record without the header: parsed
    assert not wanted(_record(b"clip.ClipProgressed", 5), now)
    assert not wanted(_record(b"clip.ClipCompleted", 17 * 60), now)
