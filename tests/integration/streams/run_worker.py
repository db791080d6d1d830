"""Runs one streams app (`decider` or `media`, the first argument) for tests.

Settings come from WAVESTACK_* variables, as in production. With TEST_WORKER_GATE set
to a path, the process loads everything and then waits for that file before it starts:
a test can have a member join at a moment of its choosing, not after seconds of
imports on a machine busy with ffmpeg.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from streams.worker import ROLES, main
from wavestack import runtime
from wavestack.logging import configure_logging
from wavestack.settings import Settings

if __name__ == "__main__":
    role = sys.argv[1] if len(sys.argv) > 1 else "decider"
    if role not in ROLES:
        sys.exit(f"usage: run_worker.py {'|'.join(ROLES)}")
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    runtime.prepare()  # as `wavestack worker` runs
    if gate := os.environ.get("TEST_WORKER_GATE"):
        print("waiting for the gate", flush=True)
        while not Path(gate).exists():
            time.sleep(0.05)
    main(settings, role)
