"""Runs the live projector for fault-injection tests, with settings from WAVESTACK_*.

A short consumer-group session, so a projector restarted after SIGKILL gets its
partitions back in seconds instead of waiting out the production default.
"""

from __future__ import annotations

from projections.projector import main
from wavestack.logging import configure_logging
from wavestack.settings import Settings

TEST_SESSION_TIMEOUT_MS = 6000

if __name__ == "__main__":
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    main(settings, session_timeout_ms=TEST_SESSION_TIMEOUT_MS)
