"""Agents on the events topic: they do the slow I/O and report back with commands."""
