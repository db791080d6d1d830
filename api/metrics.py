"""Prometheus metrics of one app (own registry, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "wavestack_api_requests_total",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "wavestack_api_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.commands = Counter(
            "wavestack_api_commands_produced_total",
            "Commands written to the commands topic, by command type.",
            ["type"],
            registry=self.registry,
        )
        self.unavailable = Counter(
            "wavestack_api_dependency_unavailable_total",
            "Requests answered 503 because a dependency was unreachable.",
            ["dependency"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
