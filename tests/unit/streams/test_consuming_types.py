"""Records pass by their type header without being decoded; those without one are read."""

from __future__ import annotations

from streams.runtime.consuming import of_types
from streams.runtime.sending import TYPE_HEADER

OURS = frozenset({b"clip.ClipRequested"})


def test_a_record_of_another_type_passes_and_one_of_ours_or_without_a_header_is_read() -> None:
    assert of_types([("x", b"1"), (TYPE_HEADER, b"clip.ClipRequested")], OURS)
    assert not of_types([(TYPE_HEADER, b"queue.ItemEnqueued")], OURS)
    assert of_types([], OURS)
    assert of_types([("other", b"clip.ClipRequested")], OURS)
