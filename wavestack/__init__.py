"""Process wiring for WaveStack: settings, logging, the CLI. Nothing domain-specific."""
