"""Health probes of the processes that serve no HTTP API: /healthz, /readyz and /metrics."""
