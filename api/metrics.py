"""Prometheus metrics of one app (own registry, so several apps can live in one process)."""

from __future__ import annotations

from typing import Any, get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from schemas.commands import Platform


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

        # Counted by a query when /metrics is scraped (cheap: the partial index on
        # due items); every API process reports the same number of the whole database.
        self.overdue = Gauge(
            "wavestack_queue_overdue_items",
            "Queue items due more than 60 s ago and not fired (scheduled or retrying), "
            "by platform, all organizations.",
            ["platform"],
            registry=self.registry,
        )

        # Labelled children by (route, method, status): labels() takes a lock and builds
        # keys on every call, which shows in the profile of a busy API.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Counts one answer and records its duration."""
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
        children[0].inc()
        children[1].observe(seconds)

    def set_overdue(self, counts: dict[str, int]) -> None:
        # Every platform is set, so one with none overdue any more reads 0, not its last count.
        for platform in {*get_args(Platform), *counts}:
            self.overdue.labels(platform).set(counts.get(platform, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
