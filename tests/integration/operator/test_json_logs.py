"""WAVESTACK_LOG_FORMAT=json: every line the CLI writes to stderr is one JSON object."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.operator.cli_support import closed_port, put_letters, wavestack
from wavestack.settings import Settings


def json_lines(stderr: str) -> list[dict[str, Any]]:
    lines = stderr.splitlines()
    assert lines, "nothing was logged"
    parsed = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert all(isinstance(p, dict) and "event" in p and "timestamp" in p for p in parsed)
    return parsed


async def test_library_logs_and_errors_are_json_lines(settings: Settings) -> None:
    down = await wavestack(
        settings,
        "dlq",
        "list",
        WAVESTACK_LOG_FORMAT="json",
        WAVESTACK_KAFKA_BOOTSTRAP=f"127.0.0.1:{closed_port()}",
    )
    missing = await wavestack(
        settings, "checksum", "--schema", "no_such_schema", WAVESTACK_LOG_FORMAT="json"
    )

    assert down.code == 1 and missing.code == 2
    logged = json_lines(down.stderr)
    assert any(str(e.get("logger", "")).startswith("aiokafka") for e in logged), logged
    assert logged[-1]["level"] == "error"
    assert logged[-1]["event"].startswith("KafkaConnectionError")
    (error,) = json_lines(missing.stderr)
    assert error["event"] == "schema 'no_such_schema' does not exist"


async def test_progress_of_a_dlq_replay_is_logged_as_json(settings: Settings) -> None:
    source = f"{settings.topics.events}:0:1"
    await put_letters(settings, [(b"k", b"{}", "x", source)])

    run = await wavestack(settings, "dlq", "replay", "--dry-run", WAVESTACK_LOG_FORMAT="json")

    assert run.code == 0, run.stderr
    progress = [e for e in json_lines(run.stderr) if e["event"] == "dlq replay (dry run)"]
    assert progress[-1]["done"] == progress[-1]["total"] == 1
    assert progress[-1]["unit"] == "letters"
