"""Prometheus metrics of the streams apps: the decider's decisions and the agents' work."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

COMMANDS = Counter(
    "wavestack_decider_commands_total",
    "Commands handled, by how (decided, redelivered, conflict) and outcome",
    ["kind", "outcome"],
)
DEAD_LETTERS = Counter(
    "wavestack_dead_letters_total",
    "Messages a streams consumer sent to the DLQ, by consumer and cause",
    ["consumer", "cause"],
)
BATCH_SIZE = Histogram(
    "wavestack_decider_batch_commands",
    "Commands decided per batch (one wait for the events, one for the changelog, one commit)",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)

AGENT_EVENTS = Counter(
    "wavestack_agent_events_total",
    "Events of the events topic a handler acted on, by handler and result",
    ["handler", "result"],
)
AGENT_SEND_RETRIES = Counter(
    "wavestack_agent_send_retries_total",
    "Retries of a handler's command produce after a retriable Kafka error",
    ["handler"],
)
CLIP_SECONDS = Histogram(
    "wavestack_clip_seconds",
    "Wall time of one clip attempt in the clipping agent, by outcome",
    ["outcome"],
    buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 3600),
)
