"""What the rest of the system can store: checks shared by request bodies and queries."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from api.problems import Loc


def in_utc_range(value: datetime) -> bool:
    # 0001-01-01T00:00+14:00 is a valid RFC 3339 time with no UTC equivalent in Python.
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


def unstorable(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, float) and not math.isfinite(value):
        yield loc, "must be a finite number"
    elif isinstance(value, str) and "\x00" in value:
        yield loc, "must not contain NUL characters"
    elif isinstance(value, datetime) and not in_utc_range(value):
        yield loc, "the date is out of range once converted to UTC"
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in str(key):
                yield [*loc, str(key)], "keys must not contain NUL characters"
            yield from unstorable(item, [*loc, str(key)])
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from unstorable(item, [*loc, index])
