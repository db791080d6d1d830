"""Dead letters as the operator tools read them: headers, filters, redaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from schemas.dlq import dlq_headers
from wavestack.errors import UserError
from wavestack.operator.letters import REPLAYED_FROM, Letter, LetterFilter, parse_id
from wavestack.operator.redact import REDACTED, pretty, redact

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def letter(*headers: tuple[str, bytes], value: bytes = b"{}") -> Letter:
    return Letter("p.dlq", 2, 7, AT, b"k", value, tuple(headers))


def refused(
    reason: str, source: str = "p.events:1:42", at: datetime = AT
) -> list[tuple[str, bytes]]:
    topic, partition, offset = source.rsplit(":", 2)
    return dlq_headers(reason, topic, int(partition), int(offset), "projector", now=at)


def test_a_letter_refused_again_after_a_replay_reads_its_latest_headers() -> None:
    first = refused("unknown message type 'x.Y'", "p.events:0:1")
    again = refused("invalid queue.ItemEnqueued data: platform", "p.events:3:9")
    one = letter(("trace", b"t1"), *first, (REPLAYED_FROM, b"p.dlq:0:0"), *again)

    assert one.id == "2:7"
    assert one.reason == "invalid queue.ItemEnqueued data: platform"
    assert one.cause == "invalid queue.ItemEnqueued data"
    assert one.source == ("p.events", 3, 9)
    assert one.consumer == "projector"
    assert one.original_headers() == [("trace", b"t1")]


def test_a_letter_without_our_headers_still_reads() -> None:
    bare = letter()

    assert bare.source is None
    assert bare.reason == "(no reason header)"
    assert bare.at == AT


def test_filters_match_on_id_source_topic_reason_and_time() -> None:
    one = letter(*refused("Unknown message type", at=AT))

    assert LetterFilter().matches(one)
    assert LetterFilter(ids=frozenset({"2:7"})).matches(one)
    assert not LetterFilter(ids=frozenset({"2:8"})).matches(one)
    assert LetterFilter(source_topic="p.events").matches(one)
    assert not LetterFilter(source_topic="p.commands").matches(one)
    assert LetterFilter(reason_contains="unknown MESSAGE").matches(one)
    assert not LetterFilter(reason_contains="envelope").matches(one)
    assert LetterFilter(since=AT).matches(one)
    assert not LetterFilter(since=AT + timedelta(seconds=1)).matches(one)


@pytest.mark.parametrize("text", ["", "3", "a:b", "1:", ":2", "-1:3", "1:2:3"])
def test_a_letter_id_is_partition_colon_offset(text: str) -> None:
    with pytest.raises(UserError, match="PARTITION:OFFSET"):
        parse_id(text)


def test_parse_id_reads_a_valid_id() -> None:
    assert parse_id("0:15") == (0, 15)


def test_redaction_hides_secret_members_and_values_but_keeps_the_rest() -> None:
    value = {
        "id": "e1",
        "idempotency_key": "abc",
        "data": {
            "title": "hello",
            "target": {"access_token": "t", "refresh_token": "r", "privacy": "public"},
            "Authorization": "Bearer abcdefghijkl",
            "webhook_secret": "s",
            "api_key": "k",
            "password": "",
            "links": ["https://user:pw@example.com/x", "https://example.com/y"],
            "note": "eyJhbGciOi.eyJzdWIiOi.sig",
        },
    }

    hidden = redact(value)

    assert hidden["id"] == "e1" and hidden["idempotency_key"] == "abc"
    data = hidden["data"]
    assert data["title"] == "hello"
    assert data["target"] == {
        "access_token": REDACTED,
        "refresh_token": REDACTED,
        "privacy": "public",
    }
    assert data["Authorization"] == data["webhook_secret"] == data["api_key"] == REDACTED
    assert data["password"] == ""  # nothing to hide
    assert data["links"] == [REDACTED, "https://example.com/y"]
    assert data["note"] == REDACTED


def test_pretty_indents_json_and_redacts_plain_text() -> None:
    assert json.loads(pretty(b'{"token": "x", "a": 1}')) == {"token": REDACTED, "a": 1}
    assert pretty(b"not json, Bearer abcdefghijklmnop") == f"not json, {REDACTED}"
    assert pretty(None) == "(no value)"
