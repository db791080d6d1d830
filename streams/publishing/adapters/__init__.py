"""Platform adapters: one interface (base.py), an explicit registry, one client per platform."""
