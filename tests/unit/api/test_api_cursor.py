"""Opaque cursors round-trip, and anything we did not issue is refused."""

from __future__ import annotations

import uuid

import pytest

from api.problems import Problem
from api.reads.paging import decode_cursor, encode_cursor, uuid_key


def test_a_cursor_round_trips_its_key() -> None:
    key = uuid.uuid4()
    assert decode_cursor(encode_cursor(str(key)), uuid_key) == key
    assert decode_cursor(encode_cursor(42), int) == 42


def test_a_cursor_is_url_safe() -> None:
    cursor = encode_cursor("?&=/+ " * 10)
    assert cursor.replace("-", "").replace("_", "").isalnum()


@pytest.mark.parametrize("cursor", ["", "%%%", "bm90IGpzb24", encode_cursor(5), "eyJrIjpudWxsfQ"])
def test_a_foreign_cursor_is_a_422_naming_the_parameter(cursor: str) -> None:
    with pytest.raises(Problem) as caught:
        decode_cursor(cursor, uuid_key)
    assert caught.value.status == 422
    assert caught.value.errors == [{"loc": ["query", "cursor"], "msg": "invalid cursor"}]
