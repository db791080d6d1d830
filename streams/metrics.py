"""Prometheus counters of the decider: what it decided, refused and could not send."""

from __future__ import annotations

from prometheus_client import Counter

COMMANDS = Counter(
    "wavestack_decider_commands_total",
    "Commands handled, by how (decided, redelivered, conflict) and outcome",
    ["kind", "outcome"],
)
DEAD_LETTERS = Counter(
    "wavestack_decider_dead_letters_total",
    "Messages of the commands topic sent to the DLQ, by cause",
    ["cause"],
)
SEND_RETRIES = Counter(
    "wavestack_decider_send_retries_total",
    "Retries of a decision's produce after a retriable Kafka error",
)
