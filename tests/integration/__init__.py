"""Integration tests: real Kafka, PostgreSQL and ffmpeg."""
