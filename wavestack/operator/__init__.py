"""The operator's tools behind the CLI: status, the dead-letter queue, checksums."""
