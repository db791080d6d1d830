"""A group member's flow control: fetching paused while its work is full, and commits of
what finished (streams.runtime.offsets says what that is)."""

from __future__ import annotations

from collections.abc import Container, Sequence

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from streams.runtime.offsets import Offsets
from streams.runtime.sending import TYPE_HEADER

log = structlog.get_logger("streams.runtime")


def pace(consumer: AIOKafkaConsumer, *, full: bool) -> None:
    """Pauses fetching while the process's work is ``full``; the loop keeps polling
    meanwhile, so heartbeats and rebalances go on."""
    assigned = consumer.assignment()
    if full:
        consumer.pause(*assigned)
    elif consumer.paused():
        consumer.resume(*assigned)


async def commit_finished(
    consumer: AIOKafkaConsumer, offsets: Offsets, due: dict[TopicPartition, int]
) -> bool:
    """Commits ``due`` (``offsets.due()``); whether it was. A commit that fails is only
    late: what it did not cover is redone, by the next owner after a rebalance or by
    this process's next commit."""
    if not due:
        return False
    try:
        await consumer.commit(due)
    except CommitFailedError:
        # The group moved on (a rebalance): the new owner redoes what is uncommitted.
        log.warning("commit_failed_rebalanced", partitions=len(due))
        return False
    except KafkaError as exc:
        log.warning("commit_failed", error=repr(exc))
        return False
    offsets.committed(due)
    return True


def of_types(headers: Sequence[tuple[str, bytes]], types: Container[bytes]) -> bool:
    """False only for a record whose ``type`` header names none of ``types``: such a
    record passes without being decoded. One without the header (older records) must
    be parsed to know."""
    for key, value in headers:
        if key == TYPE_HEADER:
            return value in types
    return True
