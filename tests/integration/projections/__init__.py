"""The projector, replay, rebuild and the operator tools against real Kafka and PostgreSQL."""
