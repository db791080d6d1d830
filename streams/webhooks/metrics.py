"""Prometheus metrics of the delivery process (served on WAVESTACK_WORKER_METRICS_PORT + 3)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ATTEMPTS = Counter(
    "wavestack_webhook_attempts_total",
    "Delivery attempts, by outcome (delivered, retrying, dead, disabled, dropped)",
    ["outcome"],
)
QUEUED = Counter(
    "wavestack_webhook_deliveries_queued_total",
    "Deliveries put in the due table, by source (live, replay)",
    ["source"],
)
ERRORS = Counter(
    "wavestack_webhook_errors_total",
    "Attempts that ended in an error of ours (their claim lapses and they run again)",
)
REQUEST_SECONDS = Histogram(
    "wavestack_webhook_request_seconds",
    "One signed POST to a subscriber, until its answer (or its time limit)",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)
