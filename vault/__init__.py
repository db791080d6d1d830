"""Credential encryption: a master key ring wraps per-connection data keys (AES-256-GCM)."""
