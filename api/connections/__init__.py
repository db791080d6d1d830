"""Publishing accounts: their bodies, the key table, the handlers and the read model."""
