"""Poison on the events topic: the publisher dead-letters what may be its own, once, and
goes on publishing; what names another process's event type is left to that process."""

from __future__ import annotations

import json
import uuid

from schemas.dlq import CONSUMER
from tests.integration.publishing.pipeline import Pipeline, soon
from tests.integration.streams.helpers import Record, TopicReader, produce


async def test_unreadable_events_go_to_the_dlq_as_the_publishers_and_posting_goes_on(
    pipeline: Pipeline,
) -> None:
    settings = pipeline.settings
    dlq = TopicReader(settings, settings.topics.dlq)
    await dlq.start()
    try:
        marker = uuid.uuid4().hex
        junk = f"\x00 not json {marker}".encode()
        bad_start = json.dumps({"type": "queue.PublishStarted", "marker": marker}).encode()
        not_ours = json.dumps({"type": "clip.ClipRequested", "marker": marker}).encode()
        await produce(
            settings, [(b"poison", v) for v in (junk, bad_start, not_ours)], settings.topics.events
        )

        # An item due after the poison is still posted, once: the publisher kept going.
        receiver = await pipeline.receiver()
        connection = await pipeline.connect(receiver)
        item = pipeline.enqueue(connection, soon(2.0))
        await pipeline.send([item])
        await pipeline.wait_for(item.aggregate_id, "queue.ItemPublished", timeout=30)
        assert len(receiver.deliveries) == 1

        def letters(reader: TopicReader) -> list[Record]:
            return [r for r in reader.records if r.value is not None and marker.encode() in r.value]

        await dlq.wait_until(lambda r: len(letters(r)) >= 2)
        assert sorted(r.value or b"" for r in letters(dlq)) == sorted([junk, bad_start])
        assert {r.headers[CONSUMER] for r in letters(dlq)} == {b"publisher"}
    finally:
        await dlq.stop()
