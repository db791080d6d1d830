"""The topic catalog and the registry of every message type the log may carry."""

from __future__ import annotations

from dataclasses import dataclass

from schemas import agent_commands, commands, events, integrations, publishing, webhooks
from schemas.base import Message


@dataclass(frozen=True)
class Topics:
    """Topic names under one prefix (``WAVESTACK_TOPIC_PREFIX``)."""

    prefix: str = "wavestack"

    @property
    def commands(self) -> str:
        return f"{self.prefix}.commands"

    @property
    def events(self) -> str:
        return f"{self.prefix}.events"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}.dlq"

    def all(self) -> list[str]:
        return [self.commands, self.events, self.dlq]


COMMAND_TYPES: dict[str, type[Message]] = {
    m.TYPE: m
    for m in (
        commands.EnqueueItem,
        commands.CancelItem,
        commands.RescheduleItem,
        commands.CreateProject,
        commands.RegisterAsset,
        commands.DeleteAsset,
        commands.RequestClip,
        agent_commands.RecordAssetProbe,
        agent_commands.FailAssetRegistration,
        agent_commands.StartClip,
        agent_commands.RecordClipProgress,
        agent_commands.CompleteClip,
        agent_commands.FailClip,
        agent_commands.RegisterClipOutput,
        publishing.CreateConnection,
        publishing.DeleteConnection,
        publishing.RetryItem,
        publishing.MarkPublished,
        publishing.StartPublish,
        publishing.RecordPublishCheckpoint,
        publishing.CompletePublish,
        publishing.FailPublishAttempt,
        publishing.RecordReconciliation,
        publishing.RecordPostMetrics,
        integrations.CreateIntegration,
        integrations.DeleteIntegration,
        integrations.RevokeIntegration,
        webhooks.CreateWebhook,
        webhooks.RotateWebhookSecret,
        webhooks.DeleteWebhook,
        webhooks.DisableWebhook,
        webhooks.ReplayWebhook,
        webhooks.RecordWebhookDelivery,
    )
}

EVENT_TYPES: dict[str, type[Message]] = {
    m.TYPE: m
    for m in (
        events.ItemEnqueued,
        events.ItemCancelled,
        events.ItemRescheduled,
        events.ProjectCreated,
        events.CommandOutcomeRecorded,
        events.CommandConflictRejected,
        events.AssetRegistrationRequested,
        events.AssetRegistered,
        events.AssetRegistrationFailed,
        events.AssetDeleted,
        events.ClipRequested,
        events.ClipStarted,
        events.ClipProgressed,
        events.ClipCompleted,
        events.ClipFailed,
        publishing.ConnectionCreated,
        publishing.ConnectionDeleted,
        publishing.PublishStarted,
        publishing.PublishCheckpointed,
        publishing.ItemPublished,
        publishing.PublishAttemptFailed,
        publishing.ItemFailed,
        publishing.PublishReconciled,
        publishing.ItemUnconfirmed,
        publishing.ItemRetried,
        publishing.PostMetricsRecorded,
        integrations.IntegrationCreated,
        integrations.IntegrationRevoked,
        integrations.IntegrationDeleted,
        webhooks.WebhookCreated,
        webhooks.WebhookSecretRotated,
        webhooks.WebhookDeleted,
        webhooks.WebhookDisabled,
        webhooks.WebhookReplayRequested,
        webhooks.WebhookDeliveryRecorded,
    )
}
