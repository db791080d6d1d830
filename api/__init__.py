"""The HTTP API: JWT auth, command endpoints that produce to Kafka, read endpoints."""
