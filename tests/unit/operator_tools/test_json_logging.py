"""JSON log mode covers the libraries, warnings and uncaught exceptions (a child process,
so the configuration of this test process is left alone)."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import logging, warnings
from wavestack.logging import configure_logging
import structlog
configure_logging("json", "info")
structlog.get_logger("wavestack.test").info("ours", n=1)
logging.getLogger("asyncio").error("Task exception was never retrieved")
logging.getLogger("faust.worker").warning("faust says")
logging.getLogger("aiokafka.conn").error("Unable connect to x")
logging.getLogger("aiohttp.access").warning('127.0.0.1 "GET / HTTP/1.1" 200')
warnings.warn("deprecated thing")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("aiohttp.server").exception("Error handling request")
raise RuntimeError("boom")
"""


def test_every_stderr_line_in_json_mode_is_one_json_object() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 1
    entries = [json.loads(line) for line in done.stderr.splitlines()]
    by_logger = {e.get("logger", "wavestack"): e for e in entries}
    assert entries[0]["event"] == "ours" and entries[0]["n"] == 1
    assert by_logger["asyncio"]["level"] == "error"
    assert by_logger["faust.worker"]["event"] == "faust says"
    assert by_logger["aiokafka.conn"]["event"] == "Unable connect to x"
    assert by_logger["aiohttp.access"]["level"] == "warning"
    assert "deprecated thing" in by_logger["py.warnings"]["event"]
    assert "ZeroDivisionError" in by_logger["aiohttp.server"]["exception"]
    assert "RuntimeError: boom" in entries[-1]["exception"]
    assert entries[-1]["level"] == "critical"
    assert all("timestamp" in e for e in entries)
