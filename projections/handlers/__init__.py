"""Event handlers of the read model, one module per table, registered by event type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from projections.handlers import assets, clips, commands, projects, queue
from schemas.envelope import Envelope
from schemas.events import (
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

Handler = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]

# Events without an entry here are still recorded in the audit index; nothing else
# changes for them (e.g. a type added to the catalog before its handler is deployed:
# a replay from the beginning fills its rows in later).
EVENT_HANDLERS: dict[str, Handler] = {
    ItemEnqueued.TYPE: queue.item_enqueued,
    ItemCancelled.TYPE: queue.item_cancelled,
    ItemRescheduled.TYPE: queue.item_rescheduled,
    ProjectCreated.TYPE: projects.project_created,
    CommandOutcomeRecorded.TYPE: commands.outcome_recorded,
    AssetRegistrationRequested.TYPE: assets.registration_requested,
    AssetRegistered.TYPE: assets.registered,
    AssetRegistrationFailed.TYPE: assets.registration_failed,
    ClipRequested.TYPE: clips.requested,
    ClipStarted.TYPE: clips.started,
    ClipProgressed.TYPE: clips.progressed,
    ClipCompleted.TYPE: clips.completed,
    ClipFailed.TYPE: clips.failed,
}

# Event types that deliberately live in the audit index only. A conflict refusal
# answers a request whose body lost to the first one under the same command id; the
# command's row keeps the first body's outcome, and no read endpoint asks for it.
AUDIT_ONLY: frozenset[str] = frozenset({CommandConflictRejected.TYPE})

# Every command type gets the same treatment: a 'pending' row until its outcome.
COMMAND_HANDLER: Handler = commands.command_requested
