"""Which aggregate decides which command: the decider's explicit handler registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from schemas.agent_commands import (
    CompleteClip,
    FailAssetRegistration,
    FailClip,
    RecordAssetProbe,
    RecordClipProgress,
    RegisterClipOutput,
    StartClip,
)
from schemas.base import Command, Event
from schemas.commands import (
    CancelItem,
    CreateProject,
    DeleteAsset,
    EnqueueItem,
    RegisterAsset,
    RequestClip,
    RescheduleItem,
)
from schemas.integrations import CreateIntegration, DeleteIntegration, RevokeIntegration
from schemas.publishing import (
    CompletePublish,
    CreateConnection,
    DeleteConnection,
    FailPublishAttempt,
    MarkPublished,
    RecordPostMetrics,
    RecordPublishCheckpoint,
    RecordReconciliation,
    RetryItem,
    StartPublish,
)
from schemas.webhooks import (
    CreateWebhook,
    DeleteWebhook,
    DisableWebhook,
    RecordWebhookDelivery,
    ReplayWebhook,
    RotateWebhookSecret,
)
from streams.domain import asset, clip, connection, integration, project, queue, webhook
from streams.domain.common import Decision

S = TypeVar("S", bound=BaseModel)


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """An aggregate type: its state model and its two pure functions."""

    name: str
    state_model: type[S]
    decide: Callable[[Command, S | None, datetime], Decision]
    evolve: Callable[[S | None, Event], S]

    def load(self, data: dict[str, Any] | None) -> S | None:
        return None if data is None else self.state_model.model_validate(data)

    def dump(self, state: S) -> dict[str, Any]:
        return state.model_dump(mode="json")


QUEUE_ITEM = Aggregate("queue_item", queue.QueueItemState, queue.decide, queue.evolve)
PROJECT = Aggregate("project", project.ProjectState, project.decide, project.evolve)
ASSET = Aggregate("asset", asset.AssetState, asset.decide, asset.evolve)
CLIP = Aggregate("clip", clip.ClipState, clip.decide, clip.evolve)
CONNECTION = Aggregate(
    "connection", connection.ConnectionState, connection.decide, connection.evolve
)
INTEGRATION = Aggregate(
    "integration", integration.IntegrationState, integration.decide, integration.evolve
)
WEBHOOK = Aggregate("webhook", webhook.WebhookState, webhook.decide, webhook.evolve)
WEBHOOK_DELIVERY = Aggregate(
    "webhook_delivery", webhook.DeliveryState, webhook.decide_delivery, webhook.evolve_delivery
)

HANDLERS: dict[str, Aggregate[Any]] = {
    EnqueueItem.TYPE: QUEUE_ITEM,
    CancelItem.TYPE: QUEUE_ITEM,
    RescheduleItem.TYPE: QUEUE_ITEM,
    RetryItem.TYPE: QUEUE_ITEM,
    MarkPublished.TYPE: QUEUE_ITEM,
    StartPublish.TYPE: QUEUE_ITEM,
    RecordPublishCheckpoint.TYPE: QUEUE_ITEM,
    CompletePublish.TYPE: QUEUE_ITEM,
    FailPublishAttempt.TYPE: QUEUE_ITEM,
    RecordReconciliation.TYPE: QUEUE_ITEM,
    RecordPostMetrics.TYPE: QUEUE_ITEM,
    CreateConnection.TYPE: CONNECTION,
    DeleteConnection.TYPE: CONNECTION,
    CreateProject.TYPE: PROJECT,
    RegisterAsset.TYPE: ASSET,
    DeleteAsset.TYPE: ASSET,
    RecordAssetProbe.TYPE: ASSET,
    FailAssetRegistration.TYPE: ASSET,
    RegisterClipOutput.TYPE: ASSET,
    RequestClip.TYPE: CLIP,
    StartClip.TYPE: CLIP,
    RecordClipProgress.TYPE: CLIP,
    CompleteClip.TYPE: CLIP,
    FailClip.TYPE: CLIP,
    CreateIntegration.TYPE: INTEGRATION,
    DeleteIntegration.TYPE: INTEGRATION,
    RevokeIntegration.TYPE: INTEGRATION,
    CreateWebhook.TYPE: WEBHOOK,
    RotateWebhookSecret.TYPE: WEBHOOK,
    DeleteWebhook.TYPE: WEBHOOK,
    DisableWebhook.TYPE: WEBHOOK,
    ReplayWebhook.TYPE: WEBHOOK,
    RecordWebhookDelivery.TYPE: WEBHOOK_DELIVERY,
}

# Commands that bring their aggregate into being (its id derives from the command id).
# A clip's output asset is created by RegisterClipOutput, under derived_id(clip, "output-asset").
CREATING: frozenset[str] = frozenset(
    {
        EnqueueItem.TYPE,
        CreateProject.TYPE,
        RegisterAsset.TYPE,
        RequestClip.TYPE,
        RegisterClipOutput.TYPE,
        CreateConnection.TYPE,
        CreateIntegration.TYPE,
        CreateWebhook.TYPE,
        RecordWebhookDelivery.TYPE,
    }
)
