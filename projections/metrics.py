"""Prometheus metrics of the projector (exposed by whoever serves /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECORDS = Counter(
    "wavestack_projector_records_total",
    "Records read by the projector, by outcome (applied, audited, skipped, dead_lettered).",
    ["projection", "topic", "result"],
)
BATCH_SECONDS = Histogram(
    "wavestack_projector_batch_seconds",
    "Time to apply and commit one batch.",
    ["projection"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LAG = Gauge(
    "wavestack_projector_lag",
    "Records on the log not yet projected (high watermark - position).",
    ["projection", "topic", "partition"],
)
RETRIES = Counter(
    "wavestack_projector_retries_total",
    "Batches retried after a transient error (database or broker unreachable).",
    ["projection"],
)
