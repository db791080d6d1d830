"""Integration tests of the HTTP API against real Kafka and PostgreSQL."""
