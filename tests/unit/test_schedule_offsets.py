"""A schedule's offset must be its zone's offset at that instant (or UTC)."""

from __future__ import annotations

from datetime import datetime

from schemas.times import offset_contradiction


def test_the_zones_summer_offset_is_accepted_and_its_winter_offset_is_not() -> None:
    summer_ok = datetime.fromisoformat("2026-07-01T09:00:00+02:00")
    summer_wrong = datetime.fromisoformat("2026-07-01T09:00:00+01:00")
    assert offset_contradiction(summer_ok, "Europe/Paris") is None
    reason = offset_contradiction(summer_wrong, "Europe/Paris")
    assert reason is not None and "+01:00" in reason and "+02:00" in reason


def test_a_utc_time_never_contradicts_a_zone() -> None:
    assert (
        offset_contradiction(datetime.fromisoformat("2026-07-01T07:00:00Z"), "Asia/Tokyo") is None
    )
