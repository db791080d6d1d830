"""Event handlers of the read model, one module per table, registered by event type.

A handler is a pure fold, ``(row or None, decoded message) -> row or None``: it
returns the row as the record leaves it, the very same object when the record
changes nothing (already applied, guarded out), and None only when there was no
row and the record creates none. No I/O: the live projector loads the rows a batch
touches and writes back what changed (projections/merge.py); the rebuild folds the
whole log in memory and COPYs the result (projections/bulk.py). One fold, two
shells, so a rebuilt model cannot drift from the live one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from projections.handlers import (
    assets,
    attempts,
    audit,
    clips,
    commands,
    connections,
    integrations,
    posts,
    projects,
    publish,
    queue,
    webhooks,
)
from projections.tables import (
    ASSETS,
    CLIPS,
    COMMANDS,
    CONNECTIONS,
    INTEGRATIONS,
    ORGANIZATIONS,
    POST_ROWS,
    PROJECTS,
    PUBLISH_ATTEMPTS,
    QUEUE_ITEMS,
    WEBHOOK_DELIVERIES,
    WEBHOOKS,
    Row,
    Table,
)
from schemas.base import Message
from schemas.codec import Decoded
from schemas.envelope import Envelope
from schemas.events import (
    AssetDeleted,
    AssetRegistered,
    AssetRegistrationFailed,
    AssetRegistrationRequested,
    ClipCompleted,
    ClipFailed,
    ClipProgressed,
    ClipRequested,
    ClipStarted,
    CommandConflictRejected,
    CommandOutcomeRecorded,
    ItemCancelled,
    ItemEnqueued,
    ItemRescheduled,
    ProjectCreated,
)
from schemas.integrations import IntegrationCreated, IntegrationDeleted, IntegrationRevoked
from schemas.publishing import (
    ConnectionCreated,
    ConnectionDeleted,
    ItemFailed,
    ItemPublished,
    ItemRetried,
    ItemUnconfirmed,
    PostMetricsRecorded,
    PublishAttemptFailed,
    PublishCheckpointed,
    PublishReconciled,
    PublishStarted,
)
from schemas.webhooks import (
    WebhookCreated,
    WebhookDeleted,
    WebhookDeliveryRecorded,
    WebhookDisabled,
    WebhookReplayRequested,
    WebhookSecretRotated,
)

Fold = Callable[[Row | None, Decoded[Message]], Row | None]


def _aggregate(env: Envelope) -> uuid.UUID:
    return env.aggregate_id


def _command(env: Envelope) -> uuid.UUID:
    return env.command_id


def _org(env: Envelope) -> str:
    return env.org_id


@dataclass(frozen=True)
class Handler:
    """Which row of which table a record folds into, and how."""

    table: Table
    key: Callable[[Envelope], Hashable]
    fold: Fold


def _on(table: Table, fold: Fold) -> Handler:
    return Handler(table, _aggregate, fold)


# Events without an entry here are still recorded in the audit index; nothing else
# changes for them (e.g. a type added to the catalog before its handler is deployed:
# a replay from the beginning fills its rows in later).
EVENT_HANDLERS: dict[str, Handler] = {
    ItemEnqueued.TYPE: _on(QUEUE_ITEMS, queue.item_enqueued),
    ItemCancelled.TYPE: _on(QUEUE_ITEMS, queue.item_cancelled),
    ItemRescheduled.TYPE: _on(QUEUE_ITEMS, queue.item_rescheduled),
    ProjectCreated.TYPE: _on(PROJECTS, projects.project_created),
    # An outcome's aggregate is its command: the same row as the command's record.
    CommandOutcomeRecorded.TYPE: Handler(COMMANDS, _command, commands.outcome_recorded),
    AssetRegistrationRequested.TYPE: _on(ASSETS, assets.registration_requested),
    AssetRegistered.TYPE: _on(ASSETS, assets.registered),
    AssetRegistrationFailed.TYPE: _on(ASSETS, assets.registration_failed),
    AssetDeleted.TYPE: _on(ASSETS, assets.deleted),
    ClipRequested.TYPE: _on(CLIPS, clips.requested),
    ClipStarted.TYPE: _on(CLIPS, clips.started),
    ClipProgressed.TYPE: _on(CLIPS, clips.progressed),
    ClipCompleted.TYPE: _on(CLIPS, clips.completed),
    ClipFailed.TYPE: _on(CLIPS, clips.failed),
    PublishStarted.TYPE: _on(QUEUE_ITEMS, publish.publish_started),
    PublishAttemptFailed.TYPE: _on(QUEUE_ITEMS, publish.attempt_failed),
    ItemPublished.TYPE: _on(QUEUE_ITEMS, publish.item_published),
    ItemFailed.TYPE: _on(QUEUE_ITEMS, publish.item_failed),
    ItemUnconfirmed.TYPE: _on(QUEUE_ITEMS, publish.item_unconfirmed),
    ItemRetried.TYPE: _on(QUEUE_ITEMS, publish.item_retried),
    # Nothing on the item row changes (the decider only clears its attempt id to
    # reconcile): the finding is the attempt's.
    PublishReconciled.TYPE: Handler(PUBLISH_ATTEMPTS, attempts.attempt_key, attempts.reconciled),
    # A post's figures: the item's event, the post's row (one post per item).
    PostMetricsRecorded.TYPE: Handler(POST_ROWS, posts.post_key, posts.metrics_recorded),
    ConnectionCreated.TYPE: _on(CONNECTIONS, connections.created),
    ConnectionDeleted.TYPE: _on(CONNECTIONS, connections.deleted),
    IntegrationCreated.TYPE: _on(INTEGRATIONS, integrations.created),
    IntegrationRevoked.TYPE: _on(INTEGRATIONS, integrations.revoked),
    IntegrationDeleted.TYPE: _on(INTEGRATIONS, integrations.deleted),
    WebhookCreated.TYPE: _on(WEBHOOKS, webhooks.created),
    WebhookSecretRotated.TYPE: _on(WEBHOOKS, webhooks.rotated),
    WebhookDisabled.TYPE: _on(WEBHOOKS, webhooks.disabled),
    WebhookDeleted.TYPE: _on(WEBHOOKS, webhooks.deleted),
    WebhookReplayRequested.TYPE: _on(WEBHOOKS, webhooks.unchanged),
    WebhookDeliveryRecorded.TYPE: _on(WEBHOOK_DELIVERIES, webhooks.delivery_recorded),
}

# The further rows an event folds into, after its entry in EVENT_HANDLERS: an
# attempt's events are also that attempt's row, a publication is also a post. Each
# handler still touches one row of one table, independent of the others.
ALSO_FOLDED_INTO: dict[str, tuple[Handler, ...]] = {
    PublishStarted.TYPE: (Handler(PUBLISH_ATTEMPTS, attempts.attempt_key, attempts.started),),
    PublishAttemptFailed.TYPE: (Handler(PUBLISH_ATTEMPTS, attempts.attempt_key, attempts.failed),),
    ItemUnconfirmed.TYPE: (Handler(PUBLISH_ATTEMPTS, attempts.attempt_key, attempts.unconfirmed),),
    ItemPublished.TYPE: (
        Handler(PUBLISH_ATTEMPTS, attempts.attempt_key, attempts.published),
        Handler(POST_ROWS, posts.post_key, posts.item_published),
    ),
}

# Event types that deliberately live in the audit index only. A conflict refusal
# answers a request whose body lost to the first one under the same command id; the
# command's row keeps the first body's outcome, and no read endpoint asks for it.
# A checkpoint (a resumable upload's session) is the publisher's business: it folds
# it from the log itself, and no read endpoint shows it.
AUDIT_ONLY: frozenset[str] = frozenset({CommandConflictRejected.TYPE, PublishCheckpointed.TYPE})

# Every command type gets the same treatment: a 'pending' row until its outcome.
COMMAND_HANDLER = Handler(COMMANDS, _command, commands.command_requested)

# Every event also names its organization.
ORGANIZATION_HANDLER = Handler(ORGANIZATIONS, _org, audit.organization_seen)
