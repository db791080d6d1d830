"""The one way a media row (an asset's probe, a clip job) ends in 'failed'."""

from __future__ import annotations

from projections.handlers.guard import applies, changed
from projections.tables import Row
from schemas.envelope import Envelope


def mark_failed(row: Row | None, env: Envelope, reason: str, code: str) -> Row | None:
    """Sets status, error and error_code, unless the row already holds a later event."""
    if row is None or not applies(row, env):
        return row
    return changed(row, env, status="failed", error=reason, error_code=code)
