"""Kafka -> PostgreSQL projection workers, read-model migrations, rebuild and replay."""
