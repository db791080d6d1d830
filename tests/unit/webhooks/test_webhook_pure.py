"""The pure parts of outbound webhooks: decisions, the retry verdict, the subscription fold."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from schemas.envelope import Actor, Envelope
from schemas.webhooks import (
    CreateWebhook,
    DeleteWebhook,
    RecordWebhookDelivery,
    ReplayWebhook,
    RotateWebhookSecret,
    WebhookCreated,
    WebhookSecretRotated,
    public_event,
    subscribable,
)
from streams.domain import webhook
from streams.webhooks.attempts import Answer, judge
from streams.webhooks.subscriptions import Subscription, apply
from vault.webhook_secrets import derive_secret

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SCHEDULE = [5.0, 300.0]


def test_a_webhook_is_created_once_and_a_deleted_one_cannot_be_rotated_or_replayed() -> None:
    create = CreateWebhook(
        url="https://x.example/h", event_types=["queue.ItemPublished"], key_id="k1"
    )
    assert webhook.decide(create, None, NOW).outcome == "applied"
    active = webhook.WebhookState(status="active")
    assert webhook.decide(create, active, NOW).status == 409
    deleted = webhook.WebhookState(status="deleted")
    assert webhook.decide(RotateWebhookSecret(), deleted, NOW).status == 404
    assert webhook.decide(ReplayWebhook(since=NOW), deleted, NOW).status == 404
    assert webhook.decide(DeleteWebhook(), deleted, NOW).outcome == "duplicate"


def test_a_rotation_keeps_the_previous_secret_for_24_hours() -> None:
    decision = webhook.decide(RotateWebhookSecret(), webhook.WebhookState(status="active"), NOW)
    [event] = decision.events
    assert isinstance(event, WebhookSecretRotated)
    assert event.previous_expires_at == NOW + timedelta(hours=24)


def _record(attempt: int, outcome: str = "retrying") -> RecordWebhookDelivery:
    return RecordWebhookDelivery(
        subscription_id=uuid.uuid4(),
        event_id=uuid.uuid4(),
        event_type="queue.ItemPublished",
        attempt=attempt,
        outcome=outcome,
        attempted_at=NOW,
    )


def test_each_attempt_is_recorded_once_and_nothing_after_a_final_outcome() -> None:
    state = webhook.DeliveryState(attempts=2, outcome="retrying")
    assert webhook.decide_delivery(_record(2), state, NOW).outcome == "duplicate"
    assert webhook.decide_delivery(_record(3), state, NOW).outcome == "applied"
    dead = webhook.DeliveryState(attempts=3, outcome="dead")
    assert webhook.decide_delivery(_record(4), dead, NOW).status == 409


def test_the_verdict_follows_the_schedule_retry_after_410_and_the_last_try() -> None:
    assert judge(Answer(204, ""), 1, SCHEDULE, NOW).outcome == "delivered"
    assert judge(Answer(410, ""), 1, SCHEDULE, NOW).outcome == "disabled"
    assert judge(Answer(302, ""), 1, SCHEDULE, NOW).next_attempt_at == NOW + timedelta(seconds=5)
    later = judge(Answer(429, "", retry_after=timedelta(seconds=60)), 1, SCHEDULE, NOW)
    assert later.next_attempt_at == NOW + timedelta(seconds=60)
    sooner = judge(Answer(429, "", retry_after=timedelta(seconds=1)), 2, SCHEDULE, NOW)
    assert sooner.next_attempt_at == NOW + timedelta(seconds=300)
    assert judge(Answer(500, ""), 3, SCHEDULE, NOW).outcome == "dead"
    assert judge(Answer(None, "refused", permanent=True), 1, SCHEDULE, NOW).outcome == "dead"


def _envelope(
    message: object, seq: int, command_id: uuid.UUID, at: datetime, agg: uuid.UUID
) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        type=message.TYPE,  # type: ignore[attr-defined]
        version=1,
        org_id="org-a",
        aggregate_type="webhook",
        aggregate_id=agg,
        sequence=seq,
        occurred_at=at,
        command_id=command_id,
        correlation_id=command_id,
        causation_id=command_id,
        actor=Actor(sub="alice"),
        data=message.model_dump(mode="json"),  # type: ignore[attr-defined]
    )


def test_after_a_rotation_both_secrets_sign_until_the_old_one_expires() -> None:
    hook = uuid.uuid4()
    created = WebhookCreated(
        url="https://x.example/h", event_types=["a.B"], description="", key_id="k"
    )
    first, second = uuid.uuid4(), uuid.uuid4()
    sub = apply(None, _envelope(created, 1, first, NOW, hook), created)
    rotation = WebhookSecretRotated(previous_expires_at=NOW + timedelta(hours=24))
    sub = apply(sub, _envelope(rotation, 2, second, NOW, hook), rotation)
    assert isinstance(sub, Subscription)
    assert [s.command_id for s in sub.signing(NOW + timedelta(hours=1))] == [second, first]
    assert [s.command_id for s in sub.signing(NOW + timedelta(hours=25))] == [second]
    assert apply(sub, _envelope(rotation, 2, uuid.uuid4(), NOW, hook), rotation) is sub  # a repeat


def test_secrets_differ_per_command_and_never_contain_the_data_key() -> None:
    key = bytes(range(32))
    a = derive_secret(key, "org-a", "s1", uuid.UUID(int=1))
    assert a == derive_secret(key, "org-a", "s1", uuid.UUID(int=1))
    assert a != derive_secret(key, "org-a", "s1", uuid.UUID(int=2))
    assert a != derive_secret(key, "org-b", "s1", uuid.UUID(int=1))
    assert a.startswith("whsec_")


def test_the_public_form_drops_internal_fields_and_sealed_data() -> None:
    env = _envelope(
        created := WebhookCreated(url="u", event_types=[], description="", key_id="k"),
        1,
        uuid.uuid4(),
        NOW,
        uuid.uuid4(),
    )
    public = public_event(env)
    assert set(public) == {
        "id",
        "type",
        "version",
        "timestamp",
        "aggregate_type",
        "aggregate_id",
        "sequence",
        "data",
    }
    assert public["timestamp"] == "2026-12-01T12:00:00Z" and public["data"]["url"] == created.url
    sealed = env.model_copy(
        update={
            "type": "connection.ConnectionCreated",
            "data": {"sealed_credentials": "v1:x", "name": "n"},
        }
    )
    assert public_event(sealed)["data"] == {"name": "n"}
    assert not subscribable("command.CommandOutcomeRecorded", {"command.CommandOutcomeRecorded"})
