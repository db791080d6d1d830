"""Integration tests of the Faust decider against the real Kafka."""
