"""Sends poison records to the DLQ: original key and value, byte for byte, plus reasons."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from schemas.dlq import dlq_headers
from schemas.kafka_security import KafkaConnection, kafka_client_options


def durable_producer(kafka: KafkaConnection | str) -> AIOKafkaProducer:
    """acks=all + idempotence, for records that must be on the log before we go on:
    a dead letter is the only copy of the decision to skip a record, so it must be
    durable before the batch that skips it commits; a redriven command likewise."""
    return AIOKafkaProducer(
        **kafka_client_options(kafka),
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=15000,
    )


class DeadLetters:
    """At-least-once into the DLQ: a crash after the send and before the batch commits
    sends the record again on restart; the source header tells the copies apart."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, consumer: str) -> None:
        self._producer = producer
        self._topic = topic
        self._consumer = consumer

    async def send(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        headers = list(record.headers or ()) + dlq_headers(
            reason, record.topic, record.partition, record.offset, self._consumer
        )
        await self._producer.send_and_wait(
            self._topic, value=record.value, key=record.key, headers=headers
        )


def source_of(record: ConsumerRecord[bytes, bytes]) -> str:
    """Where a record sits on the log, as logs and DLQ headers name it."""
    return f"{record.topic}:{record.partition}:{record.offset}"
