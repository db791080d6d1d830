"""Integration tests of the decider and the streams runtime against the real Kafka."""
