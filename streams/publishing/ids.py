"""Every id the publisher derives from an item and an attempt number.

Deterministic, so a publisher that restarts (or a second one in the group) reports
under the ids the first one used, and the decider answers each report once.
"""

from __future__ import annotations

import uuid
from typing import Any

from schemas.ids import derived_id, fingerprint


def attempt_id(item_id: uuid.UUID, attempt: int) -> str:
    """What the platform sees (webhook-id, marker): the same for one attempt, ever."""
    return "att_" + derived_id(item_id, f"publish-attempt:{attempt}").hex


def command_id(item_id: uuid.UUID, attempt: int, step: str) -> uuid.UUID:
    """``step``: start, checkpoint-<digest>, complete, found, fail, reconcile."""
    return derived_id(item_id, f"publish-{step}:{attempt}")


def request_fingerprint(platform: str, item: dict[str, Any]) -> str:
    """What was asked of the platform (content and connection), for the attempt's event."""
    return fingerprint(f"publish:{platform}", item)
