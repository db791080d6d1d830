"""Outbound webhook subscriptions: bodies, handlers and the read model (DESIGN.md §13)."""
