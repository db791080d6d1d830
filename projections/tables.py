"""The read-model tables that events fold into: names, keys and columns, in one place.

A handler folds an event into one row of one table (``Row``: column -> value); the
live projector loads the rows a batch touches, folds and writes them back, and the
rebuild folds the whole log in memory and COPYs the result. Both write every column
listed here, so a new column needs its default in the handler that creates the row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class Table:
    name: str
    key: str
    key_type: str  # the SQL type of the key, for `= ANY($1::<type>[])`
    columns: tuple[str, ...]
    values: Callable[[Row], tuple[Any, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A row's values in column order, for COPY and row-type arrays (itemgetter: per row).
        object.__setattr__(self, "values", itemgetter(*self.columns))

    @property
    def changeable(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c != self.key)


ORGANIZATIONS = Table("organizations", "org_id", "text", ("org_id", "first_seen_at"))

PROJECTS = Table(
    "projects",
    "id",
    "uuid",
    ("id", "org_id", "name", "created_at", "updated_at", "version"),
)

QUEUE_ITEMS = Table(
    "queue_items",
    "id",
    "uuid",
    (
        "id", "org_id", "project_id", "asset_id", "platform", "title", "description", "status",
        "schedule_at", "timezone", "target", "attempts", "last_error", "next_attempt_at",
        "post_id", "created_at", "updated_at", "version", "connection_id", "schedule_local",
        "reason", "error_class", "connection_broken", "due_at",
    ),
)  # fmt: skip

PUBLISH_ATTEMPTS = Table(
    "publish_attempts",
    "id",
    "uuid",
    (
        "id", "org_id", "item_id", "attempt", "attempt_id", "adapter", "fingerprint", "outcome",
        "started_at", "finished_at", "error_class", "platform_status", "summary",
        "next_attempt_at", "reconcile_attempt_id", "reconciled_attempt_id", "reconcile_finding",
        "reconcile_detail", "platform_post_id", "created_at", "updated_at", "version",
    ),
)  # fmt: skip

# The `posts` view adds the item's platform to these (migration 004).
POST_ROWS = Table(
    "post_rows",
    "id",
    "uuid",
    (
        "id", "org_id", "queue_item_id", "attempt", "platform_post_id", "url", "published_at",
        "version", "views", "likes", "comments", "shares", "metrics_read_at", "metrics_round",
        "gone_at",  # migration 007
    ),
)  # fmt: skip

CONNECTIONS = Table(
    "connections",
    "id",
    "uuid",
    (
        "id", "org_id", "platform", "name", "status", "created_at", "deleted_at", "updated_at",
        "version",
    ),
)  # fmt: skip

INTEGRATIONS = Table(
    "integrations",
    "id",
    "uuid",
    (
        "id", "org_id", "platform", "name", "scopes", "application_id", "public_key",
        "broadcaster_user_id", "recording_project_id", "recording_asset_id", "status",
        "revoked_reason", "created_at", "deleted_at", "updated_at", "version",
    ),
)  # fmt: skip

ASSETS = Table(
    "assets",
    "id",
    "uuid",
    (
        "id", "org_id", "project_id", "path", "kind", "title", "container", "duration_s",
        "width", "height", "size_bytes", "sha256", "probe", "lineage", "status", "error",
        "created_at", "updated_at", "version", "error_code", "thumbnail_path", "source_clip_id",
    ),
)  # fmt: skip

CLIPS = Table(
    "clips",
    "id",
    "uuid",
    (
        "id", "org_id", "project_id", "source_asset_id", "source_path", "start_s", "duration_s",
        "format", "mode", "aspect", "title", "status", "progress", "output_asset_id",
        "actual_start_s", "error", "lineage", "created_at", "updated_at", "version", "attempt",
        "start_offset_s", "error_code",
    ),
)  # fmt: skip

COMMANDS = Table(
    "commands",
    "command_id",
    "uuid",
    (
        "command_id", "org_id", "type", "aggregate_type", "aggregate_id", "fingerprint",
        "outcome", "reason", "status", "event_ids", "requested_at", "decided_at",
    ),
)  # fmt: skip

WEBHOOKS = Table(
    "webhooks",
    "id",
    "uuid",
    (
        "id", "org_id", "url", "event_types", "description", "status", "disabled_reason",
        "secret_rotated_at", "previous_secret_expires_at", "created_at", "deleted_at",
        "updated_at", "version",
    ),
)  # fmt: skip

WEBHOOK_DELIVERIES = Table(
    "webhook_deliveries",
    "id",
    "uuid",
    (
        "id", "org_id", "subscription_id", "event_id", "event_type", "replay_id", "status",
        "attempts", "response_status", "response_codes", "summary", "next_attempt_at",
        "first_attempt_at", "last_attempt_at", "updated_at", "version",
    ),
)  # fmt: skip

FOLDED: tuple[Table, ...] = (
    ORGANIZATIONS, PROJECTS, QUEUE_ITEMS, ASSETS, CLIPS, COMMANDS, PUBLISH_ATTEMPTS, POST_ROWS,
    CONNECTIONS, INTEGRATIONS, WEBHOOKS, WEBHOOK_DELIVERIES,
)  # fmt: skip

# The audit index is append-only (first copy of an event id wins), never folded;
# `position` is left to its sequence: the order rows arrive in this schema.
EVENT_COLUMNS: tuple[str, ...] = (
    "id", "org_id", "type", "version", "aggregate_type", "aggregate_id", "sequence",
    "occurred_at", "command_id", "correlation_id", "causation_id", "actor",
    "log_topic", "log_partition", "log_offset",  # where it was read (migration 008)
    "data",
)  # fmt: skip

# The events table's attributes in its own order (a row-type array is laid out so).
EVENT_ROW_TYPE: tuple[str, ...] = (
    "id", "org_id", "type", "version", "aggregate_type", "aggregate_id", "sequence",
    "occurred_at", "command_id", "correlation_id", "causation_id", "actor", "data",
    "position", "log_topic", "log_partition", "log_offset",
)  # fmt: skip


def new_row(table: Table, **values: Any) -> Row:
    """A row with every column of ``table``: the given values, NULL for the rest."""
    row = dict.fromkeys(table.columns)
    row.update(values)
    if len(row) != len(table.columns):
        unknown = set(values) - set(table.columns)
        raise KeyError(f"{table.name} has no column {', '.join(sorted(unknown))}")
    return row
