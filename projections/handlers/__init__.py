"""Event handlers of the read model, one module per table, registered by event type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from projections.handlers import commands, projects, queue
from schemas.envelope import Envelope
from schemas.events import (
    CommandOutcomeRecorded,
    ItemCancelled,
    ItemEnqueued,
    ItemRescheduled,
    ProjectCreated,
)

Handler = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]

# Events without an entry here (types added to the catalog later, e.g. clip.*) are
# still recorded in the audit index; nothing else changes for them.
EVENT_HANDLERS: dict[str, Handler] = {
    ItemEnqueued.TYPE: queue.item_enqueued,
    ItemCancelled.TYPE: queue.item_cancelled,
    ItemRescheduled.TYPE: queue.item_rescheduled,
    ProjectCreated.TYPE: projects.project_created,
    CommandOutcomeRecorded.TYPE: commands.outcome_recorded,
}

# Every command type gets the same treatment: a 'pending' row until its outcome.
COMMAND_HANDLER: Handler = commands.command_requested
