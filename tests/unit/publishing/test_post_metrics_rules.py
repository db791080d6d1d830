"""Reading back, the pure parts: the decider's rule, the schedule, the read table's folds,
the read model's fold and the parsing of platform answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from projections.handlers.posts import item_published, metrics_recorded
from schemas.codec import Decoded, wrap
from schemas.commands import Platform
from schemas.envelope import Actor, Envelope
from schemas.events import ItemEnqueued
from schemas.publishing import ItemPublished, PostMetricsRecorded, RecordPostMetrics
from streams.domain.queue import QueueItemState, decide, evolve
from streams.publishing.adapters.base import Answer, ErrorClass, Failed, Metrics, NotAvailable
from streams.publishing.metrics_answers import x_public_metrics, youtube_statistics
from streams.publishing.metrics_schedule import ReadSchedule
from streams.publishing.metrics_tracking import Reading, on_published, on_recorded
from streams.publishing.tracking import Tracked

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ITEM = uuid.uuid4()
CONNECTION = uuid.uuid4()
SCHEDULE = ReadSchedule()


def envelope(
    message: ItemEnqueued | ItemPublished | PostMetricsRecorded, seq: int, at: datetime = NOW
) -> Envelope:
    ids = uuid.uuid4()
    return wrap(
        message,
        id=ids,
        org_id="org-a",
        aggregate_id=ITEM,
        occurred_at=at,
        command_id=ids,
        correlation_id=ids,
        causation_id=ids,
        actor=Actor(sub="t", kind="service"),
        sequence=seq,
    )


def enqueued(platform: Platform = "x") -> ItemEnqueued:
    return ItemEnqueued(
        platform=platform,
        title="t",
        description="",
        project_id=None,
        asset_id=None,
        schedule_at=NOW,
        timezone="UTC",
        target={},
        connection_id=CONNECTION,
    )


def published_state() -> QueueItemState:
    state = evolve(None, enqueued())
    return evolve(state, ItemPublished(attempt=1, post_id="123"))


def read(round_: int, gone: bool = False, views: int | None = 10) -> RecordPostMetrics:
    return RecordPostMetrics(round=round_, read_at=NOW, views=views, likes=2, gone=gone)


def test_a_published_item_records_a_round_once() -> None:
    state = published_state()
    first = decide(read(1), state, NOW)
    assert first.outcome == "applied"
    [event] = first.events
    assert isinstance(event, PostMetricsRecorded) and event.views == 10 and event.round == 1
    state = evolve(state, event)
    assert state.metrics_round == 1
    assert decide(read(1, views=11), state, NOW).outcome == "duplicate"
    assert decide(read(2), state, NOW).outcome == "applied"


def test_an_item_that_is_not_published_has_no_post_to_read() -> None:
    decision = decide(read(1), evolve(None, enqueued()), NOW)
    assert (decision.outcome, decision.status) == ("rejected", 409)


def test_a_post_gone_from_the_platform_takes_no_more_rounds() -> None:
    state = evolve(published_state(), PostMetricsRecorded(round=1, read_at=NOW, gone=True))
    assert state.post_gone
    assert decide(read(2), state, NOW).outcome == "duplicate"


def test_the_schedule_reads_closely_on_the_first_day_then_hourly_then_stops() -> None:
    assert SCHEDULE.next_read_at(NOW, None) == NOW + timedelta(minutes=15)
    late = NOW + timedelta(hours=30)
    assert SCHEDULE.next_read_at(NOW, late) == late + timedelta(hours=1)
    last = NOW + timedelta(days=7) - timedelta(minutes=30)
    assert SCHEDULE.next_read_at(NOW, last) is None


def tracked(platform: Platform = "x") -> Tracked:
    event = enqueued(platform)
    return Tracked.enqueued(envelope(event, 1), event, evolve(None, event))


def test_a_publication_starts_reads_only_with_a_read_api_and_inside_the_window() -> None:
    published = ItemPublished(attempt=1, post_id="123")
    env = envelope(published, 3)
    entry = on_published(tracked(), env, published, True, SCHEDULE, NOW)
    assert entry is not None and (entry.post_id, entry.round, entry.platform) == ("123", 0, "x")
    assert on_published(tracked("discord"), env, published, False, SCHEDULE, NOW) is None
    # A publisher replaying old history: a post published 8 days ago is never read.
    assert on_published(tracked(), env, published, True, SCHEDULE, NOW + timedelta(days=8)) is None


def test_a_recorded_round_moves_the_entry_and_a_gone_post_or_the_last_round_ends_it() -> None:
    entry = Reading(
        org_id="org-a",
        correlation_id=ITEM,
        platform="x",
        connection_id=CONNECTION,
        post_id="123",
        published_at=NOW,
        sequence=3,
    )
    recorded = PostMetricsRecorded(round=1, read_at=NOW + timedelta(minutes=15), views=1)
    moved = on_recorded(entry, envelope(recorded, 5), recorded, SCHEDULE)
    assert moved is not None and moved.round == 1 and moved.sequence == 5
    gone = PostMetricsRecorded(round=2, read_at=NOW, gone=True)
    assert on_recorded(moved, envelope(gone, 6), gone, SCHEDULE) is None
    last = PostMetricsRecorded(round=2, read_at=NOW + timedelta(days=6, hours=23, minutes=30))
    assert on_recorded(moved, envelope(last, 6), last, SCHEDULE) is None


def test_the_post_row_keeps_the_latest_round_and_a_gone_post_keeps_its_last_figures() -> None:
    published = ItemPublished(attempt=1, post_id="123")
    row = item_published(None, Decoded(envelope(published, 3), published))
    assert row is not None and row["views"] is None and row["metrics_round"] == 0
    first = PostMetricsRecorded(round=1, read_at=NOW, views=10, likes=1, comments=0)
    row = metrics_recorded(row, Decoded(envelope(first, 4), first))
    assert row is not None and (row["views"], row["metrics_round"], row["metrics_read_at"]) == (
        10,
        1,
        NOW,
    )
    assert metrics_recorded(row, Decoded(envelope(first, 4), first)) is row  # redelivered
    gone_at = NOW + timedelta(hours=1)
    gone = PostMetricsRecorded(round=2, read_at=gone_at, gone=True)
    row = metrics_recorded(row, Decoded(envelope(gone, 5), gone))
    assert row is not None and (row["views"], row["gone_at"], row["metrics_read_at"]) == (
        10,
        gone_at,
        NOW,
    )


def answer(body: bytes) -> Answer:
    return Answer(200, {}, body)


def test_youtube_statistics_become_figures_and_an_empty_list_means_gone() -> None:
    body = b'{"items": [{"id": "v", "statistics": {"viewCount": "120", "likeCount": "7"}}]}'
    assert youtube_statistics(answer(body)) == Metrics(views=120, likes=7, comments=None)
    gone = youtube_statistics(answer(b'{"items": []}'))
    assert isinstance(gone, NotAvailable) and gone.gone
    broken = youtube_statistics(answer(b"<html>"))
    assert isinstance(broken, Failed) and broken.error_class is ErrorClass.TRANSIENT


def test_x_public_metrics_become_figures_and_a_not_found_error_means_gone() -> None:
    found = {
        "data": {
            "id": "1",
            "public_metrics": {
                "impression_count": 50,
                "like_count": 5,
                "reply_count": 2,
                "retweet_count": 1,
                "quote_count": 3,
            },
        }
    }
    assert x_public_metrics(found) == Metrics(views=50, likes=5, comments=2, shares=4)
    missing = {"errors": [{"type": "https://api.twitter.com/2/problems/resource-not-found"}]}
    gone = x_public_metrics(missing)
    assert isinstance(gone, NotAvailable) and gone.gone
    assert isinstance(x_public_metrics({"data": {"id": "1"}}), Failed)
