"""`wavestack rebuild --until-time T --schema NAME`: a point-in-time model to read, not to serve."""

from __future__ import annotations

from datetime import UTC, datetime

from projections.pointintime import PointInTimeRefused, build_as_of
from wavestack.errors import UserError
from wavestack.progress import progress_display
from wavestack.settings import Settings


async def rebuild_as_of(settings: Settings, schema: str, until: datetime) -> int:
    try:
        with progress_display(f"rebuild as of {until.isoformat()}") as progress:
            summary = await build_as_of(settings, schema, until, progress=progress)
    except PointInTimeRefused as exc:
        raise UserError(str(exc)) from None
    print(
        f"built {summary.schema} as of {summary.until.isoformat()} from {summary.records} "
        f"records in {summary.seconds:.1f} s ({summary.dead_lettered} dead-lettered; "
        f"checksum {summary.checksum}); the live model {settings.db_schema} is untouched. "
        f"Read it with SET search_path TO {summary.schema}, or through the API's list and "
        f"get routes with ?as_of={_in_url(summary.until)}; drop it with "
        f"DROP SCHEMA {summary.schema} CASCADE"
    )
    return 0


def _in_url(at: datetime) -> str:
    """T in UTC with a Z: a "+" would need escaping in a query string (it reads as a space)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
