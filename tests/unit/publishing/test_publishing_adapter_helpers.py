"""The adapters' pure helpers: texts, reset times, ranges, URL parsing."""

from __future__ import annotations

from datetime import UTC, datetime

from streams.publishing.adapters.base import Answer, PublishRequest
from streams.publishing.adapters.discord import WEBHOOK_PATH, message_body
from streams.publishing.adapters.x import poll_wait, post_text
from streams.publishing.adapters.youtube import quota_reset, reasons, received_until


def request(**overrides: object) -> PublishRequest:
    values: dict[str, object] = {
        "item_id": "i",
        "attempt_id": "a",
        "title": "Title",
        "description": "Body",
        "target": {},
        "credentials": {"access_token": "tok-secret"},
    }
    values.update(overrides)
    return PublishRequest(**values)  # type: ignore[arg-type]


def test_request_repr_hides_credentials() -> None:
    assert "tok-secret" not in repr(request())


def test_x_text_is_title_and_description_cut_to_280() -> None:
    assert post_text(request()) == "Title\n\nBody"
    assert len(post_text(request(description="x" * 500))) == 280
    assert post_text(request(target={"text": "custom"})) == "custom"


def test_x_poll_wait_is_bounded() -> None:
    assert poll_wait(5) == 5
    assert poll_wait(None) == 1.0
    assert poll_wait("soon") == 1.0
    assert poll_wait(10_000) == 30.0
    assert poll_wait(-4) == 0.0


def test_youtube_quota_resets_at_the_next_pacific_midnight() -> None:
    # 2026-03-01 07:30 UTC is 23:30 PST on Feb 28: the reset is half an hour away.
    assert quota_reset(datetime(2026, 3, 1, 7, 30, tzinfo=UTC)) == datetime(
        2026, 3, 1, 8, 0, tzinfo=UTC
    )
    # Summer time: midnight PDT is 07:00 UTC.
    assert quota_reset(datetime(2026, 7, 1, 12, 0, tzinfo=UTC)) == datetime(
        2026, 7, 2, 7, 0, tzinfo=UTC
    )


def test_youtube_308_range_gives_the_next_byte() -> None:
    assert received_until(Answer(308, {"Range": "bytes=0-524287"}, b"")) == 524288
    assert received_until(Answer(308, {}, b"")) == 0


def test_youtube_error_reasons_survive_odd_bodies() -> None:
    assert reasons(Answer(403, {}, b'{"error": {"errors": [{"reason": "quotaExceeded"}]}}')) == [
        "quotaExceeded"
    ]
    assert reasons(Answer(502, {}, b"<html>bad gateway</html>")) == []
    assert reasons(Answer(400, {}, b'{"error": "flat"}')) == []


def test_discord_webhook_url_yields_id_and_token_only() -> None:
    match = WEBHOOK_PATH.search("https://discord.com/api/webhooks/123456/tok_en-1")
    assert match is not None and (match["id"], match["token"]) == ("123456", "tok_en-1")
    assert WEBHOOK_PATH.search("https://discord.com/api/webhooks/abc/tok") is None


def test_discord_message_never_pings_and_fits_2000_chars() -> None:
    body = message_body(request(description="y" * 3000, target={"username": "Bot", "x": 1}))
    assert len(body["content"]) == 2000
    assert body["allowed_mentions"] == {"parse": []}
    assert body["username"] == "Bot" and "x" not in body
