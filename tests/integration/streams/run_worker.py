"""Runs the decider's worker for tests: settings from WAVESTACK_* variables.

The session timeout is short so a worker restarted after SIGKILL gets its
partitions back in seconds instead of waiting out the production default.
"""

from __future__ import annotations

from streams.worker import main
from wavestack.logging import configure_logging
from wavestack.settings import Settings

TEST_SESSION_TIMEOUT = 6.0

if __name__ == "__main__":
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    main(settings, session_timeout=TEST_SESSION_TIMEOUT)
