"""The dead-letter contract: a poison message keeps its bytes and gains a reason.

The DLQ message's value and key are the original's, byte for byte, so an operator
can fix the cause and re-publish it unchanged; these headers say why and whence.
"""

from __future__ import annotations

from datetime import UTC, datetime

REASON = "wavestack-dlq-reason"
SOURCE = "wavestack-dlq-source"  # "topic:partition:offset"
CONSUMER = "wavestack-dlq-consumer"  # which process refused it
AT = "wavestack-dlq-at"  # when (ISO 8601, UTC)

MAX_REASON_CHARS = 2000


def dlq_headers(
    reason: str, topic: str, partition: int, offset: int, consumer: str, now: datetime | None = None
) -> list[tuple[str, bytes]]:
    when = (now or datetime.now(UTC)).isoformat()
    return [
        (REASON, reason[:MAX_REASON_CHARS].encode()),
        (SOURCE, f"{topic}:{partition}:{offset}".encode()),
        (CONSUMER, consumer.encode()),
        (AT, when.encode()),
    ]
