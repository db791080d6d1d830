"""The decider writes its envelopes straight to JSON: the bytes ``encode(wrap(...))`` gives."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from schemas.base import Message
from schemas.codec import encode, encode_wrapped, read, wrap
from schemas.commands import ClipSource, EnqueueItem, RequestClip
from schemas.envelope import Actor, Envelope
from schemas.events import (
    ClipCompleted,
    CommandConflictRejected,
    CommandOutcomeRecorded,
    ItemEnqueued,
)
from schemas.media import ClipLineage, MediaInfo, StreamInfo

PARIS = timezone(timedelta(hours=2))
COMMAND_ID = uuid.UUID("0b7e6a52-6f0e-4f1e-9d0c-3a1f5b8e2c11")
MEDIA = MediaInfo(
    container="mp4",
    duration_s=12.345678901234567,
    width=1920,
    height=1080,
    size_bytes=10**12,
    sha256="a" * 64,
    streams=[StreamInfo(index=0, type="video", codec="h264", fps=29.97002997002997)],
)

MESSAGES: list[Message] = [
    ItemEnqueued(
        platform="youtube",
        title='Quotes " and \\ backslashes, \x01 control, ☃ and é',
        description="\n\t\r\b\f" + "x" * 3000,
        project_id=None,
        asset_id=uuid.uuid4(),
        schedule_at=datetime(2026, 7, 1, 9, 0, 0, 1, tzinfo=PARIS),
        timezone="Europe/Paris",
        target={"n": [1, 2.5, 1e20, 1e-7, -0.0, None, True], "nested": {"ü": "\u2028"}},
    ),
    CommandOutcomeRecorded(
        command_type="queue.EnqueueItem",
        outcome="rejected",
        target_aggregate_type="queue_item",
        target_aggregate_id=uuid.uuid4(),
        fingerprint="f" * 64,
        reason="a reason with \U0001f600",
        status=422,
        event_ids=[uuid.uuid4(), uuid.uuid4()],
    ),
    CommandConflictRejected(
        command_id=COMMAND_ID,
        command_type="queue.EnqueueItem",
        fingerprint="1" * 64,
        decided_fingerprint="2" * 64,
        target_aggregate_type="queue_item",
        target_aggregate_id=uuid.uuid4(),
        reason="reused",
    ),
    ClipCompleted(
        output_asset_id=uuid.uuid4(),
        path="/media/out.mp4",
        media=MEDIA,
        actual_start_s=0.1 + 0.2,
        start_offset_s=1 / 3,
        lineage=ClipLineage(
            source_asset_id=None,
            source_path="/media/in.mp4",
            source_sha256="b" * 64,
            start_s=3.0,
            duration_s=7.5,
            mode="accurate",
            aspect="9:16",
            format="mp4",
            ffmpeg_version="7.1",
        ),
    ),
    RequestClip(source=ClipSource(path="/media/in.mp4"), start=0.5, duration=2.25),
]


def command(org: str, actor: Actor) -> Envelope:
    """A command as the decider has it: decoded off the log (so in UTC)."""
    sent = wrap(
        EnqueueItem(platform="x", title="t"),
        id=COMMAND_ID,
        org_id=org,
        aggregate_id=uuid.uuid4(),
        occurred_at=datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=PARIS),
        command_id=COMMAND_ID,
        correlation_id=uuid.uuid4(),
        causation_id=COMMAND_ID,
        actor=actor,
    )
    return read(encode(sent)).envelope


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("sequence", [1, 7, None])
def test_an_envelope_written_straight_to_json_is_byte_for_byte_the_encoded_one(
    message: Message, sequence: int | None
) -> None:
    origin = command('org "ü"\n', Actor(sub="bot\\é", kind="bot"))
    event_id, aggregate_id = uuid.uuid4(), uuid.uuid4()
    expected = wrap(
        message,
        id=event_id,
        org_id=origin.org_id,
        aggregate_id=aggregate_id,
        sequence=sequence,
        occurred_at=origin.occurred_at,
        command_id=origin.command_id,
        correlation_id=origin.correlation_id,
        causation_id=origin.id,
        actor=origin.actor,
    )
    written = encode_wrapped(
        message, id=event_id, origin=origin, aggregate_id=aggregate_id, sequence=sequence
    )
    assert written == encode(expected)
    assert read(written).envelope == expected
