"""Publishing: platform adapters, webhook signing and egress safety (DESIGN.md §11)."""
