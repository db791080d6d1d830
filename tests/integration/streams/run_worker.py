"""Runs one streams app (`decider` or `media`, the first argument) for tests.

Settings come from WAVESTACK_* variables, as in production.
"""

from __future__ import annotations

import sys

from streams.worker import ROLES, main
from wavestack.logging import configure_logging
from wavestack.settings import Settings

if __name__ == "__main__":
    role = sys.argv[1] if len(sys.argv) > 1 else "decider"
    if role not in ROLES:
        sys.exit(f"usage: run_worker.py {'|'.join(ROLES)}")
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    main(settings, role)
