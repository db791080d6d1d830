"""Commands, events, the envelope and the topic catalog: pure models, no I/O."""
