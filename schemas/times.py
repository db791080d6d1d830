"""The one rule about a schedule's offset and its IANA zone, shared by the API and tests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def offset_contradiction(schedule_at: datetime, timezone: str) -> str | None:
    """Why ``schedule_at``'s UTC offset can't be local time in ``timezone``, or None.

    A time given in UTC (offset zero, "Z") never contradicts: it names the instant
    only. Any other offset must be the zone's offset at that instant (daylight saving
    included), so "09:00+01:00" in Europe/Paris in July is refused: Paris is +02:00.
    """
    offset = schedule_at.utcoffset()
    if offset is None or not offset:
        return None
    expected = schedule_at.astimezone(ZoneInfo(timezone)).utcoffset()
    if expected == offset:
        return None
    return (
        f"the offset {_hours(offset.total_seconds())} is not {timezone}'s offset at that "
        f"time ({_hours(expected.total_seconds() if expected else 0.0)})"
    )


def _hours(seconds: float) -> str:
    sign = "-" if seconds < 0 else "+"
    minutes = int(abs(seconds)) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
