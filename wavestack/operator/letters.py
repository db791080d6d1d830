"""Reading the dead-letter queue: each letter with its reason, source and original bytes.

A letter's id is ``partition:offset`` on the DLQ topic: stable, unique, and what
`wavestack dlq show` and `dlq replay --id` take.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from projections.kafka import partitions_of
from schemas import dlq
from schemas.kafka_security import KafkaConnection, kafka_client_options
from wavestack.errors import UserError

REQUEST_TIMEOUT_MS = 5000
POLL_MS = 500

# Headers a replay adds (wavestack/operator/replay.py): where the copy came from.
REPLAYED_FROM = "wavestack-dlq-replayed-from"  # "<dlq topic>:<partition>:<offset>"
REPLAY_RUN = "wavestack-dlq-replay-run"
OURS = frozenset({dlq.REASON, dlq.SOURCE, dlq.CONSUMER, dlq.AT, REPLAYED_FROM, REPLAY_RUN})


@dataclass(frozen=True)
class Letter:
    topic: str
    partition: int
    offset: int
    timestamp: datetime  # when the DLQ received it (the record's timestamp)
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    @property
    def id(self) -> str:
        return f"{self.partition}:{self.offset}"

    def header(self, name: str) -> str | None:
        # The last one counts: a replayed record refused again carries the first
        # refusal's headers too, before the new ones.
        found = [v for k, v in self.headers if k == name]
        return found[-1].decode(errors="replace") if found else None

    @property
    def reason(self) -> str:
        return self.header(dlq.REASON) or "(no reason header)"

    @property
    def cause(self) -> str:
        """The kind of failure: the reason up to its first colon."""
        return self.reason.split(":", 1)[0]

    @property
    def consumer(self) -> str:
        return self.header(dlq.CONSUMER) or "?"

    @property
    def at(self) -> datetime:
        text = self.header(dlq.AT)
        try:
            return datetime.fromisoformat(text) if text else self.timestamp
        except ValueError:
            return self.timestamp

    @property
    def source(self) -> tuple[str, int, int] | None:
        """(topic, partition, offset) of the original, None if the header is unusable."""
        text = self.header(dlq.SOURCE)
        if text is None:
            return None
        topic, _, rest = text.rpartition(":")
        topic, _, partition = topic.rpartition(":")
        try:
            return topic, int(partition), int(rest)
        except ValueError:
            return None

    @property
    def source_text(self) -> str:
        return self.header(dlq.SOURCE) or "?"

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the original record had: ours removed."""
        return [(k, v) for k, v in self.headers if k not in OURS]


@dataclass(frozen=True)
class LetterFilter:
    ids: frozenset[str] = field(default_factory=frozenset)
    source_topic: str | None = None
    reason_contains: str | None = None
    since: datetime | None = None

    def matches(self, letter: Letter) -> bool:
        if self.ids and letter.id not in self.ids:
            return False
        source = letter.source
        if self.source_topic is not None and (source is None or source[0] != self.source_topic):
            return False
        if self.reason_contains is not None and (
            self.reason_contains.lower() not in letter.reason.lower()
        ):
            return False
        return self.since is None or letter.at >= self.since


def parse_id(text: str) -> tuple[int, int]:
    partition, sep, offset = text.partition(":")
    try:
        if sep and int(partition) >= 0 and int(offset) >= 0:
            return int(partition), int(offset)
    except ValueError:
        pass
    raise UserError(f"a letter id is PARTITION:OFFSET (as `dlq list` shows), got {text!r}")


def to_letter(record: ConsumerRecord[bytes, bytes]) -> Letter:
    return Letter(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        key=record.key,
        value=record.value,
        headers=tuple(record.headers or ()),
    )


def _consumer(bootstrap: KafkaConnection | str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        **kafka_client_options(bootstrap),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=REQUEST_TIMEOUT_MS,
    )


async def read_letters(
    bootstrap: KafkaConnection | str, topic: str, wanted: LetterFilter | None = None
) -> AsyncIterator[Letter]:
    """Every letter on the DLQ as of now (later ones are left for the next look), in
    partition and offset order per partition, that ``wanted`` matches."""
    wanted = wanted or LetterFilter()
    only = {parse_id(i)[0] for i in wanted.ids}
    tps = [tp for tp in await partitions_of(bootstrap, [topic]) if not only or tp.partition in only]
    consumer = _consumer(bootstrap)
    await consumer.start()
    try:
        consumer.assign(tps)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        pending = {tp for tp in tps if await consumer.position(tp) < ends[tp]}
        consumer.pause(*(set(tps) - pending))
        while pending:
            fetched = await consumer.getmany(timeout_ms=POLL_MS)
            for tp in sorted(fetched, key=lambda t: t.partition):
                for record in fetched[tp]:
                    if record.offset < ends[tp]:
                        letter = to_letter(record)
                        if wanted.matches(letter):
                            yield letter
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
                    consumer.pause(tp)
    finally:
        await consumer.stop()


async def read_letter(bootstrap: KafkaConnection | str, topic: str, letter_id: str) -> Letter:
    partition, offset = parse_id(letter_id)
    tps = {tp.partition: tp for tp in await partitions_of(bootstrap, [topic])}
    tp = tps.get(partition)
    if tp is None:
        raise UserError(f"{topic} has no partition {partition}")
    consumer = _consumer(bootstrap)
    await consumer.start()
    try:
        consumer.assign([tp])
        start = (await consumer.beginning_offsets([tp]))[tp]
        end = (await consumer.end_offsets([tp]))[tp]
        if not start <= offset < end:
            raise UserError(
                f"no letter {letter_id} on {topic} (partition {partition} holds "
                f"offsets {start} to {end - 1})"
            )
        consumer.seek(tp, offset)
        while await consumer.position(tp) < end:
            for record in (await consumer.getmany(tp, timeout_ms=POLL_MS)).get(tp, []):
                if record.offset >= offset:
                    return to_letter(record)
    finally:
        await consumer.stop()
    raise UserError(f"no letter {letter_id} on {topic}")


def ids_of(letters: Iterable[Letter]) -> list[str]:
    return [letter.id for letter in letters]
